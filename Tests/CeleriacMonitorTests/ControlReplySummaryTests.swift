import Celeriac
import CeleriacMonitor
import CeleriacTestTags
import Testing

@Suite(.tags(.integration)) struct ControlReplySummaryTests {
    @Test func listsRepliesByNodeName() {
        let s = ControlReplySummary([
            "w2@host": ["ok": "terminate: abc"],
            "w1@host": ["ok": "terminate: abc"],
        ])
        #expect(s.line == "w1@host: terminate: abc; w2@host: terminate: abc")
        #expect(s.anySucceeded && s.replyCount == 2)
    }

    @Test func marksErrorsAndSucceedsIfAnyWorkerDid() {
        let s = ControlReplySummary(["a@h": ["error": "unknown task"], "b@h": ["ok": "new rate limit set successfully"]])
        #expect(s.line == "a@h: error: unknown task; b@h: new rate limit set successfully")
        #expect(s.anySucceeded)
        #expect(!ControlReplySummary(["a@h": ["error": "unknown task"]]).anySucceeded)
    }

    @Test func noReplyIsAFailure() {
        let s = ControlReplySummary([:])
        #expect(s.line == "no worker replied" && !s.anySucceeded && s.replyCount == 0)
    }

    @Test func otherRepliesAreCompactJSONOnOneLine() {
        let s = ControlReplySummary(["a@h": ["ok": "line1\nline2"], "b@h": ["pid": 7]])
        #expect(s.line == "a@h: line1 line2; b@h: {\"pid\":7}")
    }
}
