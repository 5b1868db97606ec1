import Synchronization

/// Tasks suspended until something happens, woken all at once: the bookkeeping that
/// ``ShutdownSignal``, ``RequestTracker`` and ``ConsumedQueues`` share (an id per waiter, its
/// continuation, and cancellation removing it), so none of them polls.
///
/// The condition a waiter waits for lives with its owner; ``wait(unless:)`` asks it under this
/// type's lock, and the owner calls ``wakeAll()`` after every change that may make it true.
/// A change that the check missed therefore comes after the waiter is in place, and wakes it.
final class Waiters: Sendable {
    private struct State {
        var next = 0
        var waiting: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    init() {}

    /// Tasks suspended in ``wait(unless:)`` now (lets tests know a waiter is in place).
    var count: Int { state.withLock { $0.waiting.count } }

    /// Suspends until ``wakeAll()``; returns at once when `ready()` is already true (asked under
    /// the lock) or the task is cancelled, and when it is cancelled while waiting.
    func wait(unless ready: () -> Bool) async {
        let id = state.withLock { s -> Int in
            s.next += 1
            return s.next
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let admitted = state.withLock { s -> Bool in
                    // A cancellation that came before this point found no waiter to wake: seen here.
                    guard !Task.isCancelled, !ready() else { return false }
                    s.waiting[id] = c
                    return true
                }
                if !admitted { c.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiting.removeValue(forKey: id) }?.resume()
        }
    }

    /// Wakes every task waiting now. Costs one lock while nobody waits.
    func wakeAll() {
        wakeAll { true }
    }

    /// Wakes every task waiting now if `condition()` (asked under the lock) holds: for owners
    /// whose condition is costly to evaluate, asked only while someone waits.
    func wakeAll(if condition: () -> Bool) {
        let woken = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            guard !s.waiting.isEmpty, condition() else { return [] }
            defer { s.waiting = [:] }
            return Array(s.waiting.values)
        }
        for c in woken { c.resume() }
    }
}
