@testable import CeleriacWorker
import CeleriacTestSupport
import Synchronization
import CeleriacTestTags
import Testing

/// The pool's line: tickets taken in order are served in that order, whatever order their
/// holders come to redeem them in.
@Suite(.tags(.integration)) struct AsyncSemaphoreTests {
    /// Who got a slot, in order.
    final class Log: Sendable {
        private let entries = Mutex<[String]>([])
        func add(_ s: String) { entries.withLock { $0.append(s) } }
        var all: [String] { entries.withLock { $0 } }
    }

    @Test func ticketsAreServedInTheOrderTheyWereTakenNotTheOrderTheirHoldersArrive() async throws {
        let pool = AsyncSemaphore(slots: 1)
        let first = pool.ticket()   // the free slot
        let second = pool.ticket()  // in line
        let third = pool.ticket()
        let log = Log()
        // The third holder starts waiting first, and a plain acquire comes after the tickets.
        let late = Task {
            try await pool.redeem(third)
            log.add("third")
            pool.release()
        }
        try await waitUntil(timeout: .seconds(10)) { pool.suspendedWaiters == 1 }
        let plain = Task {
            try await pool.acquire()
            log.add("acquire")
            pool.release()
        }
        try await waitUntil(timeout: .seconds(10)) { pool.suspendedWaiters == 2 }
        #expect(pool.tryAcquire(upTo: 1) == 0, "nobody jumps the line")
        try await pool.redeem(first)
        log.add("first")
        pool.release()  // the slot is now the second ticket's, though its holder has not come
        // `release()` resumes whoever it hands the slot to before it returns: both still
        // suspended means the third holder and the plain acquire were not woken.
        #expect(pool.suspendedWaiters == 2, "the third waits for the second")
        #expect(log.all == ["first"])
        try await pool.redeem(second)
        log.add("second")
        pool.release()
        try await late.value
        try await plain.value
        #expect(log.all == ["first", "second", "third", "acquire"])
        #expect(pool.tryAcquire(upTo: 1) == 1, "every slot came back")
    }

    @Test func aCancelledTicketGivesItsPlaceOrItsSlotToTheNext() async throws {
        let pool = AsyncSemaphore(slots: 1)
        let holding = pool.ticket()
        let skipped = pool.ticket()
        let next = pool.ticket()
        pool.cancel(skipped)
        pool.cancel(holding)  // its slot goes to `next`, past the cancelled place
        try await pool.redeem(next)
        pool.release()
        #expect(pool.tryAcquire(upTo: 1) == 1)
    }

    @Test func closingFailsTicketsWaitingOrNotAndReturnsGrantedSlots() async throws {
        let pool = AsyncSemaphore(slots: 1)
        let granted = pool.ticket()
        let waiting = pool.ticket()
        let notYet = pool.ticket()
        let waiter = Task { try await pool.redeem(waiting) }
        try await waitUntil(timeout: .seconds(10)) { pool.suspendedWaiters == 1 }
        pool.close()
        #expect(pool.suspendedWaiters == 0)
        await #expect(throws: AsyncSemaphore.Closed.self) { try await waiter.value }
        await #expect(throws: AsyncSemaphore.Closed.self) { try await pool.redeem(notYet) }
        await #expect(throws: AsyncSemaphore.Closed.self) { try await pool.redeem(granted) }
    }

    @Test func anAcquireByATaskAlreadyCancelledFailsInsteadOfJoiningTheLine() async throws {
        let window = AsyncSemaphore(slots: 1)
        #expect(window.tryAcquire(upTo: 1) == 1)
        // Cancelled before it asks (the worker cancels a race's slot-gathering side this way):
        // its cancellation handler runs before it could be in line, so joining the line would
        // leave it waiting for a slot that may never come.
        let ended = Log()
        let late = Task {
            defer { ended.add("ended") }
            while !Task.isCancelled { await Task.yield() }
            try await window.acquire()
        }
        late.cancel()
        // Either the cancelled acquire ends, or it joins the line (where it would wait for
        // ever): whichever is seen first, no clock decides.
        try await waitUntil(timeout: .seconds(30)) { window.suspendedWaiters > 0 || !ended.all.isEmpty }
        #expect(window.suspendedWaiters == 0, "a cancelled task joined the line")
        window.release()  // lets a wrongly waiting acquire end, so the task can finish
        let outcome: String
        do { try await late.value; outcome = "acquired" } catch is CancellationError { outcome = "cancelled" } catch { outcome = "\(error)" }
        #expect(outcome == "cancelled")
        #expect(window.tryAcquire(upTo: 1) == 1, "the freed slot is not handed to the cancelled task")
    }
}
