import Celeriac
@testable import CeleriacWorker
import Foundation
import Synchronization
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

    /// A cold shutdown's line is written before any running body is cancelled: once the last
    /// one ends the process may exit (a proof run under load lost the line written after).
    @Test func cancelAllAnnouncesHowManyBeforeCancellingAny() {
        let message = TaskMessage.make(name: "demo.sleep", args: [30], kwargs: [:], options: TaskSendOptions(), origin: "gen1@test",
                                       now: Date(), newID: { "id-1" })
        let tracker = RequestTracker(hostname: "w@test")
        tracker.add(Delivery(listKey: "celery", raw: message.encoded(), message: message), phase: .reserved)
        let order = Mutex<[String]>([])
        _ = tracker.start("id-1", pid: 1, cancel: { @Sendable _ in order.withLock { $0.append("cancelled") } })
        tracker.cancelAll { n in order.withLock { $0.append("announced \(n)") } }
        #expect(order.withLock { $0 } == ["announced 1", "cancelled"])
    }

    @Test(.timeLimit(.minutes(1))) func waitUntilNoneActiveEndsWhenTheLastActiveRequestEnds() async {
        let tracker = RequestTracker(hostname: "w@test")
        await tracker.waitUntilNoneActive()  // nothing active: returns at once
        let deliveries = ["id-1", "id-2"].map { id in
            let message = TaskMessage.make(name: "demo.add", args: [1, 2], kwargs: [:], options: TaskSendOptions(), origin: "gen1@test",
                                           now: Date(), newID: { id })
            return Delivery(listKey: "celery", raw: message.encoded(), message: message)
        }
        for d in deliveries {
            tracker.add(d, phase: .reserved)
            _ = tracker.start(d.message.id, pid: 1, cancel: { @Sendable _ in })
        }
        let waiter = Task {
            await tracker.waitUntilNoneActive()
            return tracker.activeCount
        }
        while tracker.waitingUntilNoneActive == 0 { await Task.yield() }
        // Ending one of two leaves the waiter waiting (woken waiters leave the list at once).
        tracker.remove(deliveries[0])
        #expect(tracker.waitingUntilNoneActive == 1)
        tracker.remove(deliveries[1])
        #expect(tracker.waitingUntilNoneActive == 0)
        #expect(await waiter.value == 0)
    }

    @Test(.timeLimit(.minutes(1))) func cancellingAnIdleWaitEndsIt() async {
        let tracker = RequestTracker(hostname: "w@test")
        let message = TaskMessage.make(name: "demo.add", args: [1, 2], kwargs: [:], options: TaskSendOptions(), origin: "gen1@test",
                                       now: Date(), newID: { "id-1" })
        tracker.add(Delivery(listKey: "celery", raw: message.encoded(), message: message), phase: .reserved)
        _ = tracker.start("id-1", pid: 1, cancel: { @Sendable _ in })
        let waiter = Task { await tracker.waitUntilNoneActive() }
        while tracker.waitingUntilNoneActive == 0 { await Task.yield() }
        waiter.cancel()
        await waiter.value
        #expect(tracker.activeCount == 1, "ended by the cancellation, not by idleness")
        #expect(tracker.waitingUntilNoneActive == 0)
    }
}
