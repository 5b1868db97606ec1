import DequeModule
import Synchronization

/// Counts free slots for async tasks: the worker's prefetch window and its concurrency.
///
/// `close()` wakes every waiter with ``Closed``, which is how a warm shutdown tells messages
/// still waiting for a slot to go back to their queue instead of running.
///
/// A ``Ticket`` is a place in line taken now and waited on later: the worker takes one for each
/// message as it receives them, in order, so messages reach the pool in the order they arrived
/// however the scheduler orders their tasks (with one slot, Celery runs them in that order).
final class AsyncSemaphore: Sendable {
    struct Closed: Error {}

    /// A place in line for one slot; ``redeem(_:beforeWaiting:)`` or ``cancel(_:)`` it exactly once.
    struct Ticket: Sendable {
        fileprivate let id: Int
    }

    private struct Waiter {
        let id: Int
        /// `nil` while a ticket's holder has not started waiting.
        var continuation: CheckedContinuation<Void, any Error>?
    }

    private struct State {
        var available: Int
        var closed = false
        /// In arrival order; a deque because every release takes the first (with `-c 32` and
        /// the default prefetch, about 96 messages wait here under load).
        var waiters: Deque<Waiter> = []
        /// Tickets handed a slot before their holders came for it.
        var granted: Set<Int> = []
        var nextID = 0

        /// The outcome for a ticket holder who comes for its slot: taken, ``Closed`` (a slot
        /// already handed to it goes back), or `nil` while its turn has not come.
        mutating func claim(_ id: Int) -> Result<Void, any Error>? {
            if granted.remove(id) != nil {
                if !closed { return .success(()) }
                available += 1
            }
            return closed ? .failure(Closed()) : nil
        }
    }

    private let state: Mutex<State>

    init(slots: Int) { state = Mutex(State(available: slots)) }

    /// Takes a slot, waiting for one if none is free.
    /// - Throws: ``Closed`` if the semaphore is closed before a slot is free; `CancellationError`.
    func acquire() async throws {
        // Fast path: a free slot is taken without suspending (the common case under load).
        if tryAcquire(upTo: 1) == 1 { return }
        let id = state.withLock { s -> Int in s.nextID += 1; return s.nextID }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                let outcome = state.withLock { s -> Result<Void, any Error>? in
                    if s.closed { return .failure(Closed()) }
                    if s.available > 0 && s.waiters.isEmpty { s.available -= 1; return .success(()) }
                    // A task cancelled before this point had its handler run already, finding
                    // nothing to cancel: it must not join the line (it would wait for a slot).
                    if Task.isCancelled { return .failure(CancellationError()) }
                    s.waiters.append(Waiter(id: id, continuation: c))
                    return nil
                }
                if let outcome { c.resume(with: outcome) }
            }
        } onCancel: {
            let waiter = state.withLock { s -> CheckedContinuation<Void, any Error>? in
                guard let i = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return s.waiters.remove(at: i).continuation
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    /// Takes a place in line without waiting: a free slot if nobody waits, else the end of the line.
    func ticket() -> Ticket {
        state.withLock { s in
            s.nextID += 1
            let ticket = Ticket(id: s.nextID)
            if !s.closed, s.waiters.isEmpty, s.available > 0 {
                s.available -= 1
                s.granted.insert(ticket.id)
            } else {
                s.waiters.append(Waiter(id: ticket.id, continuation: nil))
            }
            return ticket
        }
    }

    /// Waits until `ticket`'s turn has come and takes its slot. `beforeWaiting` runs first if
    /// it has not come yet.
    /// - Throws: ``Closed`` once the semaphore is closed (a slot the ticket held goes back);
    ///   `CancellationError`.
    func redeem(_ ticket: Ticket, beforeWaiting: () -> Void = {}) async throws {
        if let outcome = state.withLock({ $0.claim(ticket.id) }) { return try outcome.get() }
        beforeWaiting()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                let outcome = state.withLock { s -> Result<Void, any Error>? in
                    if let outcome = s.claim(ticket.id) { return outcome }
                    guard let i = s.waiters.firstIndex(where: { $0.id == ticket.id }) else { return .failure(Closed()) }
                    s.waiters[i].continuation = c
                    return nil
                }
                if let outcome { c.resume(with: outcome) }
            }
        } onCancel: {
            cancel(ticket, resumingWith: CancellationError())
        }
    }

    /// Gives up `ticket` without running: its place in line, or the slot it was already handed.
    func cancel(_ ticket: Ticket) {
        cancel(ticket, resumingWith: Closed())
    }

    private func cancel(_ ticket: Ticket, resumingWith error: any Error) {
        let (waiter, returnSlot) = state.withLock { s -> (CheckedContinuation<Void, any Error>?, Bool) in
            if s.granted.remove(ticket.id) != nil { return (nil, true) }
            guard let i = s.waiters.firstIndex(where: { $0.id == ticket.id }) else { return (nil, false) }
            return (s.waiters.remove(at: i).continuation, false)
        }
        waiter?.resume(throwing: error)
        if returnSlot { release() }
    }

    /// Returns a slot, handing it straight to the longest waiter if there is one.
    /// Takes up to `n` free slots without waiting; returns how many it took (0 when closed or
    /// when others are already waiting, so a batch never jumps the queue).
    func tryAcquire(upTo n: Int) -> Int {
        state.withLock { s in
            guard !s.closed, s.waiters.isEmpty, s.available > 0 else { return 0 }
            let taken = min(n, s.available)
            s.available -= taken
            return taken
        }
    }

    /// Gives back `n` slots.
    func release(_ n: Int) {
        for _ in 0..<max(0, n) { release() }
    }

    func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, any Error>? in
            guard !s.waiters.isEmpty else {
                s.available += 1
                return nil
            }
            let first = s.waiters.removeFirst()
            // A ticket whose holder is not waiting yet keeps the slot until it comes.
            if first.continuation == nil { s.granted.insert(first.id) }
            return first.continuation
        }
        next?.resume()
    }

    /// How many tasks are suspended in ``acquire()`` or ``redeem(_:beforeWaiting:)`` right now
    /// (tickets whose holders have not come yet are not counted).
    ///
    /// For tests: they wait for this to reach a count instead of sleeping and hoping a task
    /// got in line, and read it right after a ``release()`` to see who was (not) woken.
    var suspendedWaiters: Int {
        state.withLock { s in s.waiters.reduce(0) { $0 + ($1.continuation == nil ? 0 : 1) } }
    }

    /// Fails every current and future ``acquire()`` and ticket with ``Closed``.
    func close() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, any Error>] in
            s.closed = true
            defer { s.waiters.removeAll() }
            return s.waiters.compactMap(\.continuation)
        }
        for w in waiters { w.resume(throwing: Closed()) }
    }

    /// Changes the number of slots (pool grow/shrink); shrinking takes effect as slots return.
    func adjust(by delta: Int) {
        if delta > 0 { for _ in 0..<delta { release() } } else {
            state.withLock { $0.available += delta }
        }
    }
}
