import CeleriacMonitor
import Foundation
import CeleriacTestTags
import Testing

@Suite(.tags(.integration)) struct ActionLogTests {
    let date = Date(timeIntervalSince1970: 1_746_353_472.345)

    @Test func lineHasTimestampStatusActionAndOutcome() {
        let outcome = ActionOutcome(
            action: .revoke(taskIDs: ["abc"], terminate: true, signal: "SIGTERM"), succeeded: true,
            message: "w1@host: terminate: abc")
        #expect(ActionLog.line(for: outcome, at: date) == "2025-05-04T10:11:12.345Z ok terminate task abc (SIGTERM): w1@host: terminate: abc")
    }

    @Test func failedRetryLineAndNewIDStayOnOneLine() {
        let failed = ActionOutcome(action: .purge(queue: "celery"), succeeded: false, message: "Redis:\nconnection lost")
        #expect(ActionLog.line(for: failed, at: date) == "2025-05-04T10:11:12.345Z FAILED purge queue celery: Redis: connection lost")
        let retry = ActionOutcome(action: .retry(taskID: "old"), succeeded: true, message: "re-sent old as new", newTaskID: "new")
        #expect(ActionLog.line(for: retry, at: date).hasSuffix("ok retry task old: re-sent old as new new=new"))
    }

    @Test func appendCreatesDirectoriesAndAppendsLines() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("qmon-log-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let log = ActionLog(path: dir.appendingPathComponent("a/b/actions.log").path)
        let outcome = ActionOutcome(action: .shutdown(worker: "w1@h"), succeeded: true, message: "w1@h: shutdown sent")
        try log.append(outcome, at: date)
        try log.append(outcome, at: date)
        let text = try String(contentsOfFile: log.path, encoding: .utf8)
        #expect(text == String(repeating: "2025-05-04T10:11:12.345Z ok shut down w1@h: w1@h: shutdown sent\n", count: 2))
    }

    @Test func defaultPathFollowsXDGStateHome() {
        #expect(ActionLog.defaultPath(environment: ["XDG_STATE_HOME": "/s", "HOME": "/h"]) == "/s/celeriac/qmon-actions.log")
        #expect(ActionLog.defaultPath(environment: ["HOME": "/h"]) == "/h/.local/state/celeriac/qmon-actions.log")
        // A relative XDG_STATE_HOME is invalid per the spec and ignored.
        #expect(ActionLog.defaultPath(environment: ["XDG_STATE_HOME": "rel", "HOME": "/h"]) == "/h/.local/state/celeriac/qmon-actions.log")
    }
}
