
/// How long a worker may go without a sign of life before its peers put back the messages it
/// holds: kombu's `visibility_timeout` (`broker_transport_options`), the name Celery users know
/// for "how long until an unacknowledged message goes to another worker".
///
/// kombu counts that time from delivery, so it must outlast the longest task and ETA (people set
/// hours), and a dead worker's messages wait that long. Celeriac counts it from the holder's last
/// refresh of its liveness key (``BrokerDriver/refreshLiveness(window:)``): a live worker's messages are never taken from
/// it however long its tasks run, and a dead one's come back within the window. Hence a short
/// default (6 s); a longer one only makes recovery after a death slower, and a worker paused
/// (SIGSTOP, a full disk, a VM migration) for less than it keeps everything it held.
public struct LivenessWindow: Sendable, Equatable {
    /// Six seconds: three refreshes at two-second intervals, so two can fail or be late before
    /// peers judge the worker dead.
    public static let defaultTimeout: Duration = .seconds(6)
    /// The shortest window accepted: refreshes then go every third of a second.
    public static let shortestTimeout: Duration = .seconds(1)

    /// Time since the last refresh after which the worker counts as dead.
    public let timeout: Duration

    /// A window of `timeout`, no shorter than ``shortestTimeout``.
    public init(timeout: Duration = defaultTimeout) {
        self.timeout = max(timeout, Self.shortestTimeout)
    }

    /// A window of `seconds` from a config value or flag (never traps; see `Duration.seconds(clamping:)`).
    public init(seconds: Double) {
        self.init(timeout: .seconds(clamping: seconds))
    }

    /// How often the key is refreshed and dead peers are looked for: a third of the window, so
    /// two refreshes can be missed before it lapses, and no less often than every 2 s, so a long
    /// window does not slow down noticing that Redis takes writes again.
    public var refreshInterval: Duration { min(timeout / 3, .seconds(2)) }

    /// How long, after it finds its own liveness lapsed, a worker checks that it still owns
    /// each message before starting it and takes no new ones (``LivenessFence``): long enough for
    /// peer sweeps that saw the lapse to finish (each refresh interval one sweep runs, taking
    /// milliseconds), never the whole of a long window.
    public var fence: Duration { min(timeout, .seconds(6)) }

    /// The key's expiry for `SET … PX`.
    package var milliseconds: Int {
        // timeout is at most Duration.longestWait (1e9 s), so this fits easily.
        Int(timeout.components.seconds) * 1000 + Int(timeout.components.attoseconds / 1_000_000_000_000_000)
    }

    /// The window in seconds, as the user gave it.
    public var seconds: Double { timeout.seconds }
}
