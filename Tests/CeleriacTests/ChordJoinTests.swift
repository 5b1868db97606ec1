import Celeriac
import CeleriacTestTags
import Testing

/// The pure half of the chord join: Celery 5.7's settings arithmetic and what the recorded parts
/// decide.
@Suite(.tags(.unit)) struct ChordJoinTests {
    @Test func claimAndExpiriesFollowCelerysArithmetic() {
        let defaults = ChordJoin.Settings()
        #expect(defaults.claimExpires == 6, "max(5, int(3.0 * 2)), the ARGV Celery sends")
        #expect(defaults.doneExpires == 300)
        #expect(defaults.publishClaimExpires == 21)
        #expect(ChordJoin.Settings(joinTimeout: 10).claimExpires == 20)
        #expect(ChordJoin.Settings(joinTimeout: 1).claimExpires == 5)
        #expect(ChordJoin.Settings(joinTimeout: .infinity).claimExpires > 0, "no trap on a wire-sized value")
        #expect(ChordJoin.Settings(expires: 0).groupExpires == 0, "0 keeps results")
    }

    @Test func partsDecideInHeaderOrderAndTheFirstFailureNamesTheChordError() {
        let ok = (0..<3).map { ChordJoin.entry(taskID: "t\($0)", state: .success, result: .int($0 * 2)) }
        #expect(ChordJoin.decide(entries: ok) == .complete([0, 2, 4]))
        #expect(String(decoding: ok[1], as: UTF8.self) == #"[1, "t1", "SUCCESS", 2]"#, "as Python's json.dumps writes it")
        let boom = ExceptionInfo(type: "ValueError", message: "boom").jsonValue
        let failing = [ok[0], ChordJoin.entry(taskID: "bad", state: .failure, result: boom),
                       ChordJoin.entry(taskID: "later", state: .revoked, result: ExceptionInfo.revoked("terminated").jsonValue)]
        #expect(ChordJoin.decide(entries: failing) == .failed(message: "Dependency bad raised ValueError('boom')"))
        guard case .failed(let message) = ChordJoin.decide(entries: [[0x7b]]) else { Issue.record("an undecodable part"); return }
        #expect(message.hasPrefix("Join error: "))
    }

    @Test func aPartJoinsOnlyWhenItCompletesTheChordAndHoldsTheClaim() {
        #expect(ChordPartCount(ready: 3, added: 0, size: 3, claimed: true).joins)
        #expect(!ChordPartCount(ready: 3, added: 0, size: 3, claimed: false).joins, "another worker holds the claim")
        #expect(!ChordPartCount(ready: 2, added: 0, size: 3, claimed: true).joins)
        #expect(ChordPartCount(ready: 4, added: 1, size: 3, claimed: true).joins, "parts added at run time count")
        #expect(!ChordPartCount(ready: -1, added: 0, size: nil, claimed: false).joins, "already done")
        #expect(!ChordPartCount(ready: 0, added: Int.max, size: Int.max, claimed: true).joins, "no trap on wire sizes")
    }
}
