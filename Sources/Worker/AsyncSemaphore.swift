import DequeModule
import Synchronization

/// Counts free slots for async tasks: the worker's prefetch window and its concurrency.
///
/// `close()` wakes every waiter with ``Closed``, which is how a warm shutdown tells messages
/// still waiting for a slot to go back to their queue instead of running.
final class AsyncSemaphore: Sendable {
    struct Closed: Error {}

    private struct State {
        var available: Int
        var closed = false
        /// In arrival order; a deque because every release takes the first (with `-c 32` and
        /// the default prefetch, about 96 messages wait here under load).
        var waiters: Deque<(id: Int, continuation: CheckedContinuation<Void, any Error>)> = []
        var nextID = 0
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
                    if s.available > 0 { s.available -= 1; return .success(()) }
                    s.waiters.append((id, c))
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
            if !s.waiters.isEmpty { return s.waiters.removeFirst().continuation }
            s.available += 1
            return nil
        }
        next?.resume()
    }

    /// Fails every current and future ``acquire()`` with ``Closed``.
    func close() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, any Error>] in
            s.closed = true
            defer { s.waiters.removeAll() }
            return s.waiters.map(\.continuation)
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
