public import Celeriac

/// What the monitor knows about one worker node, merged from `worker-*` events (and task
/// events, which count as signs of life) the way Celery's `celery.events.state.Worker` does.
///
/// Liveness follows Celery 5.7: the worker keeps the *local receive times* of its latest
/// heartbeats (at most 4) and is online while `now < latest + freq * 2`
/// (`HEARTBEAT_EXPIRE_WINDOW` = 200 %), 4 s at the default `freq` of 2 s. `worker-offline`
/// clears the heartbeats at once. A task event from the worker also counts as a heartbeat, as
/// in Celery, at the event's own (corrected) timestamp, but never later than its receive time;
/// so a long task never takes a worker offline while its heartbeats keep coming, and a task
/// event alone keeps it online only as long as `freq` allows.
///
/// Differences from Celery, on purpose: an offline worker stays in ``ClusterState/workers``
/// (counted in "total"); task events do not bring an offline worker back (only
/// `worker-online`/`worker-heartbeat` do); a worker event *sent* before the `worker-offline`
/// but received after it does not bring it back either; and an older worker event does not
/// overwrite the counters of a newer one.
public struct WorkerState: Sendable, Equatable {
    /// How many heartbeat times are kept (Celery's `heartbeat_max`).
    public static let heartbeatsKept = 4
    /// Drift between the sender's corrected timestamp and the local receive time above which
    /// clocks are likely out of sync (Celery's `HEARTBEAT_DRIFT_MAX`).
    public static let maxDrift: Double = 16
    /// Most bytes kept of the software name, version and system texts.
    public static let maxTextBytes = 128

    /// The node name, e.g. `"w1@host"`.
    public let hostname: String
    /// The main worker process id.
    public internal(set) var pid: Int?
    /// Heartbeat interval in seconds. 60 until a worker event says otherwise (Celery's
    /// default for a worker only known from task events).
    public internal(set) var freq: Double = 60
    /// Local receive times of the latest heartbeats (and task events), oldest first, at most ``heartbeatsKept``.
    public internal(set) var heartbeats: [Double] = []
    /// The worker's Lamport clock at its latest worker event.
    public internal(set) var clock: Int = 0
    /// Tasks executing now (latest worker event).
    public internal(set) var active: Int?
    /// Tasks processed since start.
    public internal(set) var processed: Int?
    /// 1, 5 and 15 minute load averages.
    public internal(set) var loadavg: [Double]?
    /// Software name, `"py-celery"` or Celeriac's.
    public internal(set) var swIdent: String?
    /// Software version, e.g. `"5.7.0"`.
    public internal(set) var swVer: String?
    /// Operating system, e.g. `"Linux"`.
    public internal(set) var swSys: String?
    /// The sender's (utcoffset-corrected) timestamp of the latest worker event applied.
    public internal(set) var lastHeartbeatSent: Double?
    /// `local receive time - corrected sender timestamp` of the latest event with a timestamp.
    public internal(set) var clockDrift: Double?
    /// Whether a `worker-offline` was the latest word from this worker.
    public internal(set) var isOffline = false
    /// Local time the `worker-offline` was received.
    public internal(set) var offlineAt: Double?
    /// Local time of the latest event of any kind from this worker.
    public internal(set) var lastSeen: Double?
    /// Pool implementation from `inspect stats`, e.g. `"celery.concurrency.prefork:TaskPool"`.
    public internal(set) var pool: String?
    /// Pool size from `inspect stats` (`pool.max-concurrency`).
    public internal(set) var concurrency: Int?
    /// Prefetch count from `inspect stats`.
    public internal(set) var prefetchCount: Int?

    /// Sender timestamp of the `worker-offline`, to recognise events sent before it.
    private var offlineSent: Double?

    /// Creates a worker known by name only (Celery creates one so on its first task event).
    public init(hostname: String) { self.hostname = hostname }

    /// The latest heartbeat's local receive time.
    public var lastHeartbeat: Double? { heartbeats.last }

    /// When the worker counts as offline without a further heartbeat: `lastHeartbeat + 2 * freq`.
    public var heartbeatExpires: Double? { lastHeartbeat.map { $0 + freq * 2 } }

    /// Whether the clocks of worker and monitor seem out of sync (drift above ``maxDrift`` seconds).
    public var hasClockDrift: Bool { (clockDrift.map(abs) ?? 0) > Self.maxDrift }

    /// Whether the worker is online at `now`: no `worker-offline` since its latest heartbeat
    /// and `now < lastHeartbeat + freq * 2`.
    ///
    /// - Parameter now: Current local time, epoch seconds.
    public func isOnline(now: Double) -> Bool {
        guard !isOffline, let expires = heartbeatExpires else { return false }
        return now < expires
    }

    /// Fills pool details from the worker's `inspect stats` reply (the object under its node
    /// name): `pool.implementation`, `pool.max-concurrency`, `pid`, `prefetch_count`.
    ///
    /// - Parameter stats: The reply object; other shapes and missing keys change nothing.
    public mutating func merge(stats: JSONValue) {
        if let v = stats["pid"]?.intValue { pid = v }
        if let v = stats["prefetch_count"]?.intValue { prefetchCount = v }
        if let p = stats["pool"] {
            if let v = p["implementation"]?.stringValue { pool = StoredText.prefix(v, bytes: Self.maxTextBytes) }
            if let v = p["max-concurrency"]?.intValue { concurrency = v }
        }
    }

    // MARK: Updates (for ClusterState)

    /// Applies a `worker-online`, `worker-heartbeat` or `worker-offline` (Celery's `Worker.event`).
    mutating func apply(
        _ kind: CeleryEventKind, event: CeleryEvent, fields: WorkerEventFields, timestamp: Double?,
        clock eventClock: Int, receivedAt: Double
    ) {
        lastSeen = max(lastSeen ?? receivedAt, receivedAt)
        let offline = kind == .workerOffline
        // Sent before the offline we already applied: stale, keep the newer picture.
        if !offline, isOffline, let timestamp, let offlineSent, timestamp <= offlineSent { return }
        var newer = true
        if let timestamp, let last = lastHeartbeatSent { newer = timestamp >= last }
        if newer {
            if let v = event.pid { pid = v }
            if let v = fields.freq, v > 0 { freq = v }
            if let v = fields.active { active = v }
            if let v = fields.processed { processed = v }
            // Bounded whatever the event holds: three averages, short software names.
            if let v = fields.loadavg { loadavg = Array(v.prefix(3)) }
            if let v = fields.swIdent { swIdent = StoredText.prefix(v, bytes: Self.maxTextBytes) }
            if let v = fields.swVer { swVer = StoredText.prefix(v, bytes: Self.maxTextBytes) }
            if let v = fields.swSys { swSys = StoredText.prefix(v, bytes: Self.maxTextBytes) }
            clock = eventClock
            if let timestamp { lastHeartbeatSent = timestamp }
        }
        if offline {
            heartbeats.removeAll(keepingCapacity: true)
            isOffline = true
            offlineAt = receivedAt
            offlineSent = timestamp
            return
        }
        // Celery ignores the heartbeat when the event has no timestamp.
        guard let timestamp else { return }
        isOffline = false
        offlineAt = nil
        offlineSent = nil
        clockDrift = receivedAt - timestamp
        addHeartbeat(receivedAt)
    }

    /// A task event from this worker: a sign of life at its corrected timestamp, capped at
    /// the receive time (Celery: `worker.event(None, local_received, timestamp)`).
    mutating func noteTaskEvent(timestamp: Double?, receivedAt: Double) {
        lastSeen = max(lastSeen ?? receivedAt, receivedAt)
        guard let timestamp, !isOffline else { return }
        clockDrift = receivedAt - timestamp
        addHeartbeat(min(timestamp, receivedAt))
    }

    /// Celery's insertion: drop the oldest beyond the limit, append if newest, else insert in order.
    private mutating func addHeartbeat(_ t: Double) {
        if heartbeats.count >= Self.heartbeatsKept { heartbeats.removeFirst() }
        if let last = heartbeats.last, t <= last {
            var i = heartbeats.count
            while i > 0, heartbeats[i - 1] > t { i -= 1 }
            heartbeats.insert(t, at: i)
        } else {
            if heartbeats.capacity < Self.heartbeatsKept { heartbeats.reserveCapacity(Self.heartbeatsKept) }
            heartbeats.append(t)
        }
    }
}
