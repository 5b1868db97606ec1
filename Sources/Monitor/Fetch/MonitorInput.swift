public import Celeriac

/// Something the monitor learned, in the order it learned it: the only way data reaches the
/// model. Feeds produce these on their own tasks; the monitor loop drains and applies them on
/// the one thread that owns the model and the screen.
public enum MonitorInput: Sendable {
    /// Events decoded from one pub/sub message (a `task.multi` batch or a single event), with the
    /// local time (epoch seconds) they were received.
    case events([CeleryEvent], receivedAt: Double)
    /// The latest depths of every queue, polled in one round trip.
    case queues([QueueSample], at: Double)
    /// A worker's `inspect stats` reply (pool, concurrency, pid).
    case workerStats(hostname: String, stats: JSONValue)
    /// The monitor re-sent a failed task as a new one.
    case retryLinked(original: String, resent: String, at: Double)
    /// A one-line status for the operator (e.g. "Redis unreachable, reconnecting").
    case notice(String)
    /// The feed dropped this many events since its previous report because the model fell
    /// behind (``MonitorInputBuffer``'s bounds).
    case dropped(events: Int)
}

/// A source of ``MonitorInput``: the live Redis feed, or a scripted one in tests.
public protocol MonitorFeed: Sendable {
    /// Everything that arrived since the last call, without waiting.
    func drain() -> [MonitorInput]
}
