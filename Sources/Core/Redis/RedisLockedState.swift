internal import Foundation

/// A value guarded by a lock plus a condition, so a dedicated connection thread can sleep until
/// other tasks queue work (or until a deadline) without polling.
///
/// `@unchecked Sendable` is sound: `value` is only touched while `condition` is locked (every
/// accessor below locks it for the whole access, and `NSCondition.wait` re-acquires the lock
/// before returning), `condition` itself is thread-safe, and `Value` is `Sendable`, so nothing
/// non-thread-safe escapes through a return value.
final class RedisLockedState<Value: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var value: Value

    init(_ value: Value) {
        self.value = value
    }

    /// Runs `body` with exclusive access.
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        condition.lock()
        defer { condition.unlock() }
        return try body(&value)
    }

    /// Runs `body` with exclusive access, then wakes every thread in ``wait(until:ready:_:)``.
    func withLockAndSignal<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        condition.lock()
        defer {
            condition.broadcast()
            condition.unlock()
        }
        return try body(&value)
    }

    /// Wakes every thread in ``wait(until:prepare:ready:_:)`` after a change made under
    /// ``withLock(_:)``; a waiter checks `ready` under the lock before sleeping, so a broadcast
    /// outside it cannot be missed.
    func broadcast() {
        condition.broadcast()
    }

    /// Sleeps until `ready` holds or `deadline` passes (`nil`: no deadline), then runs `body`
    /// with exclusive access, whichever way the wait ended. `prepare` runs under the lock
    /// first, before any sleep.
    func wait<R>(
        until deadline: ContinuousClock.Instant?, prepare: (inout Value) -> Void = { _ in }, ready: (Value) -> Bool,
        _ body: (inout Value) throws -> R
    ) rethrows -> R {
        condition.lock()
        defer { condition.unlock() }
        prepare(&value)
        while !ready(value) {
            if let deadline {
                let remaining = ContinuousClock.now.duration(to: deadline)
                if remaining <= .zero { break }
                _ = condition.wait(until: Date(timeIntervalSinceNow: remaining.seconds))
            } else {
                condition.wait()
            }
        }
        return try body(&value)
    }
}
