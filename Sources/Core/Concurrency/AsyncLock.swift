import Synchronization

/// A first-come, first-served lock for async code: ``withLock(_:)`` suspends (never blocks a
/// thread) until the lock is free.
///
/// Used where a critical section spans awaits, e.g. ``ControlClient`` collecting replies from
/// its one reply list: two collections at once would pop each other's replies and drop them.
public final class AsyncLock: Sendable {
    private struct State {
        var locked = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    public init() {}

    /// Runs `body` while holding the lock. Waiting is not cancellable; `body` should check for
    /// cancellation itself, so a cancelled caller releases the lock promptly.
    public func withLock<R>(_ body: () async throws -> R) async rethrows -> R {
        await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let acquired = state.withLock { s -> Bool in
                if !s.locked {
                    s.locked = true
                    return true
                }
                s.waiters.append(continuation)
                return false
            }
            if acquired { continuation.resume() }
        }
    }

    /// Hands the lock straight to the next waiter, or frees it.
    private func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if s.waiters.isEmpty {
                s.locked = false
                return nil
            }
            return s.waiters.removeFirst()
        }
        next?.resume()
    }
}
