/// Who publishes an event: the fields Celery's `EventDispatcher` prepends to every event.
///
/// Kept separate from the clock and timestamp, which change per event and are injected by the
/// caller so that building an event is pure.
public struct EventSender: Sendable, Hashable {
    /// Node name: `name@host` for a worker (`celery@host` by default), `gen<pid>@host` for
    /// any other process, including a pool child publishing on a task's behalf.
    public var hostname: String
    /// Hours *west* of UTC, as ``CeleryEvent/localUTCOffset(timeZone:at:)`` computes it.
    public var utcoffset: Double
    /// Process id. Celery sends the *main* worker pid in task events, not the pool child's.
    public var pid: Int

    /// Creates a sender description.
    public init(hostname: String, utcoffset: Double, pid: Int) {
        self.hostname = hostname
        self.utcoffset = utcoffset
        self.pid = pid
    }
}
