import Celeriac
@testable import CeleriacWorker
import Foundation
import CeleriacTestTags
import Testing

/// The worker's record of held messages when a restored message is taken again (same task id,
/// same delivery tag) before the first taking has finished.
@Suite(.tags(.integration)) struct RequestTrackerTests {
    @Test func finishingAnEarlierTakingLeavesTheLaterOneTracked() throws {
        let message = TaskMessage.make(name: "demo.add", args: [1, 2], kwargs: [:], options: TaskSendOptions(), origin: "gen1@test",
                                       now: Date(), newID: { "id-1" })
        let tracker = RequestTracker(hostname: "w@test")
        let first = Delivery(listKey: "celery", raw: message.encoded(), message: message)
        let again = Delivery(listKey: "celery", raw: message.encoded(), message: message)
        tracker.add(first, phase: .reserved)
        tracker.add(again, phase: .reserved)
        tracker.remove(first)
        let stillTracked = tracker.start("id-1", pid: 1, cancel: { @Sendable _ in })
        #expect(stillTracked, "the later taking is still there to start")
        tracker.remove(again)
        let gone = !tracker.start("id-1", pid: 1, cancel: { @Sendable _ in })
        #expect(gone)
    }
}
