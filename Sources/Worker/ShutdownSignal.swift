import Synchronization

/// The moment a worker begins to stop, as something its tasks can wait on.
///
/// The worker's periodic jobs (heartbeats, liveness refreshes and orphan sweeps, the start-up
/// connect retry) sleep between runs with ``sleep(until:clock:)``, which returns at once when
/// ``signal()`` is called. They used to nap 100 ms at a time and look at a flag: that woke an
/// idle worker ten times a second per job and held a shutdown up by up to a nap. Modelled on
/// swift-service-lifecycle's graceful-shutdown handler: a one-shot signal, waits that end on it
/// or on cancellation, and no polling.
///
/// One-shot: once signalled it stays signalled, and every later wait returns at once.
final class ShutdownSignal: Sendable {
    private let signalled = Atomic<Bool>(false)
    private let waiters = Waiters()

    init() {}

    /// Whether ``signal()`` was called.
    var isSignalled: Bool { signalled.load(ordering: .relaxed) }

    /// Tasks suspended in ``wait()`` (or a ``sleep(until:clock:)``) now; lets tests know a
    /// waiter is in place before they signal.
    var waiting: Int { waiters.count }

    /// Wakes every waiter and every later one at once.
    /// - Returns: `true` for the call that signalled, `false` for any after it.
    @discardableResult
    func signal() -> Bool {
        guard !signalled.exchange(true, ordering: .relaxed) else { return false }
        waiters.wakeAll()
        return true
    }

    /// Returns once the signal is given, or when the waiting task is cancelled.
    func wait() async {
        await waiters.wait { isSignalled }
    }

    /// Sleeps until `deadline`, unless the signal comes first.
    ///
    /// - Parameters:
    ///   - deadline: When to wake if nothing else happens.
    ///   - clock: The clock `deadline` is on.
    /// - Returns: `true` when the deadline came and the signal had not; `false` when the
    ///   signal came (before or during the sleep) or the sleeping task was cancelled.
    func sleep<C: Clock>(until deadline: C.Instant, clock: C = ContinuousClock()) async -> Bool {
        guard !isSignalled, !Task.isCancelled else { return false }
        let slept = await withTaskGroup(of: Bool.self) { group in
            group.addTask { (try? await clock.sleep(until: deadline, tolerance: nil)) != nil }
            group.addTask {
                await self.wait()
                return false
            }
            // The first to end decides; the other is cancelled (its wait or sleep ends at once).
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        return slept && !isSignalled
    }

    /// Sleeps for `duration` on the continuous clock, unless the signal comes first.
    /// - Returns: As ``sleep(until:clock:)``.
    func sleep(for duration: Duration) async -> Bool {
        await sleep(until: ContinuousClock.now + duration)
    }

    /// Runs `operation` until it returns or the signal comes, whichever is first (the other is
    /// cancelled: `operation` must end when its task is).
    func whileRunning(_ operation: @escaping @Sendable () async -> Void) async {
        guard !isSignalled else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await operation() }
            group.addTask { await self.wait() }
            await group.next()
            group.cancelAll()
        }
    }
}
