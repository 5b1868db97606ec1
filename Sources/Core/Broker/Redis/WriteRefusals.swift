package import Logging
import Synchronization

/// A worker's view of whether Redis takes its writes, shared by everything that writes.
///
/// Redis can be reachable and still refuse writes: `OOM` at `maxmemory` with `noeviction`,
/// `READONLY` on a replica after a failover, `MISCONF` after a failed snapshot
/// (``RedisError/isWriteRefused``). Dropping a refused result or ack loses it, and taking new
/// messages meanwhile grows the worker's memory with results it cannot store. So a refusal
/// opens an *episode*: writes are kept and retried with backoff, the reservation loop takes no
/// new messages (``waitUntilAccepted()``), and the episode is logged once when it opens and once
/// when a write goes through again.
package final class WriteRefusals: Sendable {
    private struct State {
        /// When the episode began, while Redis refuses writes.
        var since: ContinuousClock.Instant?
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())
    private let refusing = Atomic<Bool>(false)
    private let logger: Logger

    package init(logger: Logger) {
        self.logger = logger
    }

    /// Whether the last write Redis answered was refused.
    package var isRefusing: Bool { refusing.load(ordering: .relaxed) }

    /// Redis refused a write with `reply`; the first refusal of an episode logs it.
    package func refused(_ reply: String) {
        let opened = state.withLock { s -> Bool in
            guard s.since == nil else { return false }
            s.since = .now
            refusing.store(true, ordering: .relaxed)
            return true
        }
        if opened {
            logger.error("Redis refuses writes (\(reply.prefix(200))): results and acks are kept and retried, and no new messages are taken until it accepts them again")
        }
    }

    /// Redis took a write; ends an episode, if one is open, with its one line.
    package func accepted() {
        guard isRefusing else { return }
        let (began, waiters) = state.withLock { s -> (ContinuousClock.Instant?, [CheckedContinuation<Void, Never>]) in
            defer {
                s.since = nil
                s.waiters = []
                refusing.store(false, ordering: .relaxed)
            }
            return (s.since, s.waiters)
        }
        if let began {
            logger.warning("Redis accepts writes again after \(String(format: "%.1f", (ContinuousClock.now - began).seconds)) s: storing the results and acks kept meanwhile")
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns at once unless an episode is open; then when it ends (a kept write went through,
    /// or the liveness refresh did) or ``release()`` is called.
    package func waitUntilAccepted() async {
        guard isRefusing else { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                guard s.since != nil else { return true }
                s.waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Lets every waiter go without ending the episode (the worker is stopping).
    package func release() {
        let waiters = state.withLock { s in
            defer { s.waiters = [] }
            return s.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
