@testable import CeleriacWorker
import CeleriacTestTags
import Testing

/// The reservation loop's decisions (``ReservationWindow``), without a broker.
@Suite(.tags(.unit)) struct ReservationWindowTests {
    @Test func lanesAlternateSoEachCallInFlightHasItsOwnLastPopList() {
        var w = ReservationWindow()
        #expect((0..<5).map { _ in w.nextLane() } == [0, 1, 0, 1, 0])
    }

    @Test func aFullBatchIsABacklogAndASecondCallGoesOutAfterAQuarterOfTheWindow() {
        var w = ReservationWindow()
        #expect(w.overlap(othersInFlight: 0, window: 400, stopping: false) == nil, "no backlog seen yet: just wait")
        #expect(w.received(128, asked: 128, othersInFlight: 0, stopping: false) == .handOn(release: 0))
        #expect(w.backlog)
        #expect(w.overlap(othersInFlight: 0, window: 400, stopping: false) == 100)
        #expect(w.overlap(othersInFlight: 0, window: 4000, stopping: false) == ReservationWindow.batchLimit, "never more than a batch")
        #expect(w.overlap(othersInFlight: 0, window: 2, stopping: false) == 1, "at least one slot")
        #expect(w.overlap(othersInFlight: 1, window: 400, stopping: false) == nil, "two in flight at most")
        #expect(w.overlap(othersInFlight: 0, window: 400, stopping: true) == nil, "a stopping worker sends no more")
    }

    @Test func aPartBatchHandsOnWhatCameAndGivesTheRestOfItsSlotsBack() {
        var w = ReservationWindow()
        #expect(w.received(30, asked: 128, othersInFlight: 0, stopping: false) == .handOn(release: 98))
        #expect(!w.backlog)
    }

    @Test func anEmptyBatchBlocksOnOneMessageOnlyWhenNothingElseIsInFlight() {
        var w = ReservationWindow()
        #expect(w.received(0, asked: 10, othersInFlight: 0, stopping: false) == .blockOnOne(release: 9))
        #expect(w.received(0, asked: 10, othersInFlight: 1, stopping: false) == .releaseAll(10))
        #expect(w.received(0, asked: 10, othersInFlight: 0, stopping: true) == .releaseAll(10))
    }

    @Test func singleMessagesKeepAStreakOfBlockingPopsThatEndsAfterItsLength() {
        var w = ReservationWindow()
        #expect(!w.prefersBlockingPop(waitsBeforeTaking: false), "the first take is a reservation")
        w.blockingPopEnded(gotOne: true)
        #expect(w.prefersBlockingPop(waitsBeforeTaking: false))
        #expect(!w.prefersBlockingPop(waitsBeforeTaking: true), "acks_late on one queue never pops")
        w.blockingPopEnded(gotOne: false)
        #expect(w.blockingPops == 1, "a pop that timed out keeps the streak as it is")
        for _ in 2...ReservationWindow.blockingPopStreak { w.blockingPopEnded(gotOne: true) }
        #expect(w.blockingPops == ReservationWindow.blockingPopStreak)
        #expect(!w.prefersBlockingPop(waitsBeforeTaking: false), "the streak's end tries a reservation again")
        w.blockingPopEnded(gotOne: true)
        #expect(w.blockingPops == 1, "a pop after the streak's end starts a new one")
    }

    @Test func aBatchThatBroughtMessagesEndsTheStreak() {
        var w = ReservationWindow()
        w.blockingPopEnded(gotOne: true)
        w.blockingPopEnded(gotOne: true)
        _ = w.received(5, asked: 5, othersInFlight: 0, stopping: false)
        #expect(w.blockingPops == 0)
        #expect(!w.prefersBlockingPop(waitsBeforeTaking: false))
    }

    @Test func aWaitWithoutTakingEndsTheStreak() {
        var w = ReservationWindow()
        w.blockingPopEnded(gotOne: true)
        w.waitedWithoutTaking()
        #expect(w.blockingPops == 0)
    }
}

/// The queues a worker consumes, and the wait for one when the last was cancelled.
@Suite(.tags(.unit), .timeLimit(.minutes(1))) struct ConsumedQueuesTests {
    @Test func addingAQueueWakesTheLoopWaitingForOne() async {
        let queues = ConsumedQueues(["celery"])
        queues.remove("celery")
        #expect(queues.current.isEmpty)
        let waiter = Task { await queues.waitUntilAny() }
        while queues.waiting != 1 { await Task.yield() }
        #expect(queues.add("mail"))
        await waiter.value
        #expect(queues.current == ["mail"])
        #expect(queues.waiting == 0)
    }

    @Test func aWaitWithAQueueReturnsAtOnceAndAddingOneTwiceAddsItOnce() async {
        let queues = ConsumedQueues(["celery"])
        await queues.waitUntilAny()
        #expect(!queues.add("celery"))
        #expect(queues.add("mail"))
        #expect(queues.current == ["celery", "mail"])
    }

    @Test func cancellingTheWaitLeavesNoWaiter() async {
        let queues = ConsumedQueues([])
        let waiter = Task { await queues.waitUntilAny() }
        while queues.waiting != 1 { await Task.yield() }
        waiter.cancel()
        await waiter.value
        #expect(queues.waiting == 0)
    }
}
