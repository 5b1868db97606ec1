import Foundation
import Synchronization

/// The time an ``EtaTimer`` reads and sleeps on: the wall clock in the worker (an ETA is a
/// wall-clock time), a hand-moved one in tests.
protocol EtaClock: Sendable {
    func now() -> Date
    /// Sleeps for `duration` (never more than ``EtaTimer/longestNap``).
    /// - Throws: `CancellationError` when the sleeping task is cancelled.
    func sleep(for duration: Duration) async throws
}

/// `Date()` and `Task.sleep`.
struct SystemEtaClock: EtaClock {
    func now() -> Date { Date() }
    func sleep(for duration: Duration) async throws { try await Task.sleep(for: duration) }
}

/// Wakes each message waiting for its ETA when it is due, with one sleeping task for all of
/// them, armed for the earliest ETA (``EtaSchedule``), instead of one task per message that
/// looks at the time every 100 ms: a worker holding 20,000 far-future ETA messages then costs
/// no CPU while they wait, and a message arriving with an earlier ETA re-arms the timer.
///
/// ``close()`` (warm shutdown) wakes every waiter at once with `false`, so each puts its
/// message back on its queue; so does cancelling a waiting task.
final class EtaTimer: Sendable {
    /// The longest the timer sleeps at once: a far ETA (a year, year 9999) is reached in naps
    /// of this length, so a `Duration` is never built from a huge number of seconds (that
    /// traps), and a wall clock set forward (NTP, a VM resumed) is noticed within this time.
    static let longestNap: Duration = .seconds(60)

    private struct State {
        var schedule = EtaSchedule()
        var waiters: [EtaSchedule.Waiter: CheckedContinuation<Bool, Never>] = [:]
        /// The sleeping task and the time it sleeps until; `nil` when nothing waits.
        var armed: (deadline: Date, generation: UInt64, task: Task<Void, Never>)?
        var generations: UInt64 = 0
        var closed = false
        var wakeups = 0
    }

    private let state = Mutex(State())
    private let clock: any EtaClock

    init(clock: any EtaClock = SystemEtaClock()) { self.clock = clock }

    /// Messages waiting now.
    var waiting: Int { state.withLock { $0.waiters.count } }

    /// How many times the timer woke up from a nap since it was made: each time, it looks at
    /// the earliest waiter only, whatever the number waiting. What shows that a worker holding
    /// many ETA messages stays asleep.
    var wakeups: Int { state.withLock { $0.wakeups } }

    /// Waits until `eta`.
    /// - Returns: `true` when `eta` has come; `false` when the timer was closed (the worker is
    ///   stopping) or the waiting task was cancelled, before or during the wait.
    func wait(until eta: Date) async -> Bool {
        // `!(eta > now)`: an ETA that is not a number is due at once, as it never compares later.
        if !(eta > clock.now()) { return true }
        let waiter = Mutex<EtaSchedule.Waiter?>(nil)
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
                let admitted = state.withLock { s -> Bool in
                    // A cancellation that came before this point found no waiter to wake: seen here.
                    guard !s.closed, !Task.isCancelled else { return false }
                    let (w, isEarliest) = s.schedule.add(due: eta)
                    s.waiters[w] = c
                    waiter.withLock { $0 = w }
                    if isEarliest { arm(&s, until: s.schedule.earliest ?? eta) }
                    return true
                }
                if !admitted { c.resume(returning: false) }
            }
        } onCancel: {
            // Its entry stays in the heap until due or closed; only its continuation goes now.
            let c = state.withLock { s in waiter.withLock { $0 }.flatMap { s.waiters.removeValue(forKey: $0) } }
            c?.resume(returning: false)
        }
    }

    /// Wakes every waiter with `false` and refuses new ones: a warm shutdown puts their
    /// messages back on their queues.
    func close() {
        let all = state.withLock { s -> [CheckedContinuation<Bool, Never>] in
            s.closed = true
            s.armed?.task.cancel()
            s.armed = nil
            _ = s.schedule.takeAll()
            let all = Array(s.waiters.values)
            s.waiters = [:]
            return all
        }
        for c in all { c.resume(returning: false) }
    }

    /// Starts a timer task for `deadline`, replacing (cancelling) the one armed for later.
    private func arm(_ s: inout State, until deadline: Date) {
        s.armed?.task.cancel()
        s.generations += 1
        let generation = s.generations
        let task = Task { [self] in await self.sleepAndWake(from: deadline, generation: generation) }
        s.armed = (deadline, generation, task)
    }

    /// The timer task: naps until the earliest deadline, wakes whoever is due, and goes on
    /// with the next earliest until nothing waits, or a newer timer replaced it.
    private func sleepAndWake(from deadline: Date, generation: UInt64) async {
        var deadline = deadline
        while true {
            do {
                try await clock.sleep(for: Self.nap(until: deadline, now: clock.now()))
            } catch {
                return  // re-armed for an earlier ETA, or closed
            }
            let (due, next) = state.withLock { s -> ([CheckedContinuation<Bool, Never>], Date?) in
                guard s.armed?.generation == generation else { return ([], nil) }
                s.wakeups += 1
                let due = s.schedule.takeDue(at: clock.now()).compactMap { s.waiters.removeValue(forKey: $0) }
                guard let next = s.schedule.earliest else {
                    s.armed = nil
                    return (due, nil)
                }
                s.armed?.deadline = next
                return (due, next)
            }
            for c in due { c.resume(returning: true) }
            guard let next else { return }
            deadline = next
        }
    }

    /// How long to sleep from `now` to reach `deadline`: at least a millisecond (no spinning
    /// on a deadline a hair away; also for a deadline that is not a number), at most
    /// ``longestNap`` (also for an infinite one). Never traps, whatever the dates.
    static func nap(until deadline: Date, now: Date) -> Duration {
        let seconds = deadline.timeIntervalSince(now)
        let longest = Double(longestNap.components.seconds)
        if seconds.isNaN || seconds <= 0.001 { return .milliseconds(1) }
        if seconds >= longest { return longestNap }
        return .nanoseconds(Int64(seconds * 1e9))
    }
}
