import Celeriac

/// Fencing after a lapse of the worker's liveness key (the broker driver's, `BrokerDriver.refreshLiveness`).
///
/// A worker paused longer than its ``LivenessWindow`` (SIGSTOP, a full disk, a VM migration)
/// looks dead to its peers: their orphan sweeps put the messages it held back on their queues,
/// and another worker runs them. When the paused worker resumes it still holds those deliveries
/// in memory. So a worker that finds its liveness lapsed:
/// - checks, for ``LivenessWindow/fence`` afterwards, that it still owns each message before it
///   starts it (`Worker.stillHeld`), and takes no new message meanwhile (re-taking a restored
///   message would make its stale copy look held);
/// - acks and restores the deliveries it received before the lapse only if it still owns them
///   (``heldInDoubt(receivedAt:now:)``): the peer that took a restored message holds it under
///   the same delivery tag, and a plain ack would erase the peer's record of it.
///
/// Only the tasks that were already running at the pause can run twice (at-least-once), never
/// the prefetched ones. Pure state, kept under the worker's lock; the clock is passed in.
struct LivenessFence {
    /// What a lapse looked like when it was first seen.
    struct Lapse: Equatable {
        /// Since the last refresh that went through.
        var since: Duration
        /// No refresh was under way for a window: the process was paused, not waiting for Redis.
        var stalled: Bool
    }

    let window: LivenessWindow
    /// When the last successful refresh was sent: the key lives at least a window from then.
    private var refreshedAt: ContinuousClock.Instant?
    /// When the last refresh ended, gone through or not (one waiting out an outage ends late).
    private var endedAt: ContinuousClock.Instant?
    /// Messages start only after an ownership check until then.
    private var fenceUntil: ContinuousClock.Instant?
    /// The last moment the key was seen possibly expired: what was received before it may have
    /// been restored by a peer.
    private var lapseSeenAt: ContinuousClock.Instant?
    private var lapseReported = false

    init(window: LivenessWindow) {
        self.window = window
    }

    /// A refresh is about to be sent at `now`. Returns the lapse the first time one is seen.
    mutating func attempting(now: ContinuousClock.Instant) -> Lapse? {
        guard extendFence(now: now), !lapseReported, let refreshedAt else { return nil }
        lapseReported = true
        return Lapse(since: now - refreshedAt, stalled: endedAt.map { now - $0 >= window.timeout } ?? false)
    }

    /// The refresh tried last ended at `now`, whatever its outcome.
    mutating func ended(now: ContinuousClock.Instant) {
        endedAt = now
    }

    /// A refresh sent at `sentAt` went through.
    mutating func refreshed(sentAt: ContinuousClock.Instant) {
        refreshedAt = sentAt
        lapseReported = false
    }

    /// Whether a message starting at `now` must first be checked as still held.
    mutating func mustFence(now: ContinuousClock.Instant = .now) -> Bool {
        if extendFence(now: now) { return true }
        guard let fenceUntil else { return false }
        return now < fenceUntil
    }

    /// When the fence ends, while a message starting at `now` must first be checked as still
    /// held (``mustFence(now:)``); `nil` otherwise.
    mutating func fencedUntil(now: ContinuousClock.Instant = .now) -> ContinuousClock.Instant? {
        mustFence(now: now) ? fenceUntil : nil
    }

    /// Whether a delivery received at `receivedAt` may have been restored by a peer since: the
    /// key was seen possibly expired after it arrived. Its ack or restore must then check that
    /// this worker still owns it.
    mutating func heldInDoubt(receivedAt: ContinuousClock.Instant, now: ContinuousClock.Instant = .now) -> Bool {
        _ = extendFence(now: now)
        guard let lapseSeenAt else { return false }
        return receivedAt <= lapseSeenAt
    }

    /// When the key may have expired at `now`, fencing starts (or goes on) from now.
    private mutating func extendFence(now: ContinuousClock.Instant) -> Bool {
        guard let refreshedAt, now - refreshedAt >= window.timeout else { return false }
        fenceUntil = now + window.fence
        lapseSeenAt = now
        return true
    }
}
