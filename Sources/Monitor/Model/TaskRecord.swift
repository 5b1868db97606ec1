public import Celeriac

/// What the monitor knows about one task, merged from its events the way Celery's
/// `celery.events.state.Task.event()` merges them.
///
/// Merge rule (Celery 5.7): every event sets its state's timestamp (``sentAt``,
/// ``receivedAt``, …). The task then moves to the event's state only when that state has the
/// same or a higher precedence (``Celeriac/TaskState/precedence``, lower number wins: SUCCESS,
/// FAILURE, REVOKED, STARTED, RECEIVED, REJECTED, RETRY, PENDING) than the current one, or when
/// either state is RETRY (a retried task runs again). An event of a lower precedence
/// "happened before" the current state: its fields are merged anyway, except for a late
/// `task-received`, of which only `name, args, kwargs, parent_id, root_id, retries, eta,
/// expires` are kept (Celery's `merge_rules`). So `succeeded` before `started` stays SUCCESS,
/// and a late `received` still fills in the name and arguments.
///
/// Differences from Celery, on purpose: an absent or `null` field never erases a known value;
/// custom `task-*` types are kept in the ``timeline`` but do not change ``state`` (``state``
/// is a ``Celeriac/TaskState``); exact duplicates are not added to the timeline twice.
///
/// Records are compact: no per-event field dictionaries, timestamps in one fixed block, names
/// and hostnames shared (interned by ``ClusterState``), ``rootID`` shares ``uuid``'s storage
/// when a task is its own root.
public struct TaskRecord: Sendable, Equatable {
    /// The task id.
    public let uuid: String
    /// Task name (shadow name if set); `nil` until a `task-sent` or `task-received` is seen
    /// (an unregistered or expired task may never get one).
    public internal(set) var name: String?
    /// Current state after merging (see the type's discussion).
    public internal(set) var state: TaskState = .pending
    /// `repr` of the positional arguments, e.g. `"(2, 3)"`.
    public internal(set) var args: String?
    /// `repr` of the keyword arguments.
    public internal(set) var kwargs: String?
    /// `repr` of the return value (after `task-succeeded`).
    public internal(set) var result: String?
    /// Hostname of the worker that sent the latest non-`task-sent` event.
    public internal(set) var worker: String?
    /// Hostname of the client that sent `task-sent` (`gen<pid>@host`).
    public internal(set) var client: String?
    /// Run time in seconds (`task-succeeded`).
    public var runtime: Double? { storedRuntime.isNaN ? nil : storedRuntime }
    /// Retries so far, as the latest `task-sent`/`task-received` said.
    public internal(set) var retries: Int?
    /// Workflow root id (often ``uuid`` itself).
    public internal(set) var rootID: String?
    /// Queue the client routed to (`task-sent`).
    public internal(set) var queue: String?
    /// Exchange the client published to (`""` = default exchange).
    public internal(set) var exchange: String?
    /// Routing key the client published with.
    public internal(set) var routingKey: String?
    /// Lamport clock of the latest event, as the monitor observed it (`task-sent` clocks are
    /// replaced, see ``Celeriac/LamportClock/observe(_:)``).
    public internal(set) var clock: Int = 0
    /// Monitor's local time of the latest event for this task, epoch seconds.
    public internal(set) var lastEventReceivedAt: Double

    /// Per-state timestamps (sender's clock, utcoffset-corrected); NaN = not seen.
    private var times = StateTimes()
    private var storedRuntime: Double = .nan
    /// Oldest first by timestamp, at most the configured length.
    private var entries: [PackedEntry] = []
    /// Fields most tasks never have, out of line: empty (no allocation) or one element.
    private var extrasStorage: [Extras] = []
    /// Which once-per-task statistics ``ClusterState`` has already taken from this record.
    var accounted: Accounted = []
    /// ``approximateHeapBytes`` when ``TaskStore`` last counted this record in its total.
    var countedBytes: UInt32 = 0

    /// Counts the record again after a change: sets ``countedBytes`` and returns how much it grew
    /// (negative if it shrank), for ``TaskStore``'s total.
    @inline(__always)
    mutating func recount() -> Int {
        let now = min(approximateHeapBytes, Int(UInt32.max))
        let delta = now - Int(countedBytes)
        countedBytes = UInt32(now)
        return delta
    }

    /// Creates an empty record, as a task's first event does (state PENDING).
    ///
    /// - Parameters:
    ///   - uuid: The task id.
    ///   - receivedAt: Local time of the first event.
    public init(uuid: String, receivedAt: Double) {
        self.uuid = uuid
        self.lastEventReceivedAt = receivedAt
    }

    /// An empty record that takes over `evicted`'s timeline buffer, emptied: a full store
    /// evicts one record per new task, and handing the buffer on (instead of freeing one and
    /// allocating another) keeps the heap from shifting while the monitor runs.
    init(uuid: String, receivedAt: Double, reusing evicted: inout TaskRecord) {
        self.init(uuid: uuid, receivedAt: receivedAt)
        swap(&entries, &evicted.entries)
        entries.removeAll(keepingCapacity: true)
    }

    // MARK: Timestamps

    /// When `task-sent` was sent (client clock, corrected).
    public var sentAt: Double? { times.get(.sent) }
    /// When `task-received` was sent by the worker.
    public var receivedAt: Double? { times.get(.received) }
    /// When the task started.
    public var startedAt: Double? { times.get(.started) }
    /// When it succeeded.
    public var succeededAt: Double? { times.get(.succeeded) }
    /// When it failed.
    public var failedAt: Double? { times.get(.failed) }
    /// When it was last retried.
    public var retriedAt: Double? { times.get(.retried) }
    /// When it was revoked.
    public var revokedAt: Double? { times.get(.revoked) }
    /// When it was rejected.
    public var rejectedAt: Double? { times.get(.rejected) }

    /// The timestamp of the event that set the current ``state``'s time, if any.
    public var stateTimestamp: Double? {
        switch state {
        case .pending: sentAt
        case .received: receivedAt
        case .started: startedAt
        case .success: succeededAt
        case .failure: failedAt
        case .retry: retriedAt
        case .revoked: revokedAt
        case .rejected: rejectedAt
        }
    }

    /// Whether the state will not change any more (SUCCESS, FAILURE, REVOKED).
    public var isReady: Bool { state.isReady }


    // MARK: Less common fields (stored out of line)

    /// `repr` of the exception (`task-failed`, `task-retried`); kept after a later success, as Celery does.
    public internal(set) var exception: String? {
        get { extrasStorage.first?.exception }
        set {
            if newValue == nil, extrasStorage.isEmpty { return }
            if extrasStorage.isEmpty { extrasStorage = [Extras()] }
            extrasStorage[0].exception = newValue
        }
    }
    /// Formatted traceback of the latest failure or retry.
    public internal(set) var traceback: String? {
        get { extrasStorage.first?.traceback }
        set {
            if newValue == nil, extrasStorage.isEmpty { return }
            if extrasStorage.isEmpty { extrasStorage = [Extras()] }
            extrasStorage[0].traceback = newValue
        }
    }
    /// ISO-8601 ETA text, as Celery sent it.
    public internal(set) var eta: String? {
        get { extrasStorage.first?.eta }
        set {
            if newValue == nil, extrasStorage.isEmpty { return }
            if extrasStorage.isEmpty { extrasStorage = [Extras()] }
            extrasStorage[0].eta = newValue
        }
    }
    /// ISO-8601 expiry text.
    public internal(set) var expires: String? {
        get { extrasStorage.first?.expires }
        set {
            if newValue == nil, extrasStorage.isEmpty { return }
            if extrasStorage.isEmpty { extrasStorage = [Extras()] }
            extrasStorage[0].expires = newValue
        }
    }
    /// Id of the task that sent this one.
    public internal(set) var parentID: String? {
        get { extrasStorage.first?.parentID }
        set {
            if newValue == nil, extrasStorage.isEmpty { return }
            if extrasStorage.isEmpty { extrasStorage = [Extras()] }
            extrasStorage[0].parentID = newValue
        }
    }
    /// `task-revoked`: whether a running task was killed.
    public internal(set) var terminated: Bool? {
        get { extrasStorage.first?.terminated }
        set {
            if newValue == nil, extrasStorage.isEmpty { return }
            if extrasStorage.isEmpty { extrasStorage = [Extras()] }
            extrasStorage[0].terminated = newValue
        }
    }
    /// `task-revoked`: whether it was revoked because it expired.
    public internal(set) var expired: Bool? {
        get { extrasStorage.first?.expired }
        set {
            if newValue == nil, extrasStorage.isEmpty { return }
            if extrasStorage.isEmpty { extrasStorage = [Extras()] }
            extrasStorage[0].expired = newValue
        }
    }
    /// `task-revoked`: signal number used to terminate.
    public internal(set) var signum: Int? {
        get { extrasStorage.first?.signum }
        set {
            if newValue == nil, extrasStorage.isEmpty { return }
            if extrasStorage.isEmpty { extrasStorage = [Extras()] }
            extrasStorage[0].signum = newValue
        }
    }
    /// `task-rejected`: whether the message was requeued.
    public internal(set) var requeue: Bool? {
        get { extrasStorage.first?.requeue }
        set {
            if newValue == nil, extrasStorage.isEmpty { return }
            if extrasStorage.isEmpty { extrasStorage = [Extras()] }
            extrasStorage[0].requeue = newValue
        }
    }
    /// Id of the group (or chord header) this task is a member of, from its stored result
    /// (`group_id` in `celery-task-meta-<id>`; task events do not carry it). A chord body has its
    /// header's group id too.
    public internal(set) var groupID: String? {
        get { extrasStorage.first?.groupID }
        set {
            if newValue == nil, extrasStorage.isEmpty { return }
            if extrasStorage.isEmpty { extrasStorage = [Extras()] }
            extrasStorage[0].groupID = newValue
        }
    }
    /// Ids of the tasks this one started, from its stored result's `children` (group members
    /// included), in the order stored; at most ``maxChildIDs`` of them (``childCount`` says how
    /// many there were).
    public var childIDs: [String] { extrasStorage.first?.childIDs ?? [] }
    /// How many children the stored result listed (may exceed ``childIDs``'s count).
    public var childCount: Int { extrasStorage.first?.childCount ?? 0 }
    /// Most child ids a record keeps: a group of thousands lists every member under its parent,
    /// and the monitor's memory is bounded per record.
    public static let maxChildIDs = 32

    /// Sets ``childIDs`` (cut to ``maxChildIDs``, each id to `nameBytes`) and ``childCount``
    /// (`total`, the number listed, at least the ids given).
    mutating func setChildren(_ ids: [String], total: Int, nameBytes: Int) {
        if ids.isEmpty, extrasStorage.isEmpty { return }
        if extrasStorage.isEmpty { extrasStorage = [Extras()] }
        extrasStorage[0].childIDs = ids.prefix(Self.maxChildIDs).map { StoredText.prefix($0, bytes: nameBytes) }
        extrasStorage[0].childCount = max(total, ids.count)
    }

    /// Id of the task this one re-sends (set by the monitor's "retry failed task" action).
    public var retryOf: String? {
        get { extrasStorage.first?.retryOf }
        set {
            if newValue == nil, extrasStorage.isEmpty { return }
            if extrasStorage.isEmpty { extrasStorage = [Extras()] }
            extrasStorage[0].retryOf = newValue
        }
    }
    /// Id of the task the monitor re-sent this one as.
    public var retriedAs: String? {
        get { extrasStorage.first?.retriedAs }
        set {
            if newValue == nil, extrasStorage.isEmpty { return }
            if extrasStorage.isEmpty { extrasStorage = [Extras()] }
            extrasStorage[0].retriedAs = newValue
        }
    }

    // MARK: Truncated texts

    /// The texts a record keeps at most ``ClusterState/Configuration/maxFieldBytes`` of.
    public enum TextField: String, Sendable, Hashable, CaseIterable {
        case args, kwargs, result, exception, traceback
    }

    /// The size in UTF-8 bytes of `field` as its event sent it, when the record holds only a
    /// prefix of it; `nil` when the record holds it in full (or not at all).
    ///
    /// - Parameter field: One of the long texts.
    public func originalByteCount(of field: TextField) -> Int? {
        extrasStorage.first?.originalSizes[field]
    }

    /// The fields held truncated, with their original sizes in bytes.
    public var truncatedFields: [TextField: Int] { extrasStorage.first?.originalSizes ?? [:] }

    /// `text`, cut to `limit` bytes if longer, noting its original size for `field` (or
    /// forgetting an old note when the new text fits).
    @inline(__always)
    private mutating func limited(_ text: String, _ field: TextField, limit: Int) -> String {
        let n = text.utf8.count
        if n <= limit {
            if !extrasStorage.isEmpty, extrasStorage[0].originalSizes[field] != nil {
                extrasStorage[0].originalSizes[field] = nil
            }
            return text
        }
        if extrasStorage.isEmpty { extrasStorage = [Extras()] }
        extrasStorage[0].originalSizes[field] = n
        return StoredText.prefix(text, bytes: limit)
    }

    // MARK: Timeline

    /// One event in a task's history.
    public struct TimelineEntry: Sendable, Hashable {
        /// The event type.
        public let kind: CeleryEventKind
        /// The sender's timestamp, utcoffset-corrected; `nil` if the event had none.
        public let timestamp: Double?
        /// The sender's node name; `nil` for custom event types (their type name takes its place in storage).
        public let hostname: String?
    }

    /// The latest events of this task, oldest first by timestamp (bounded, 16 by default).
    public var timeline: [TimelineEntry] { entries.map(\.entry) }

    // MARK: Merging

    /// Merges one task event into the record (Celery's `Task.event`).
    ///
    /// - Parameters:
    ///   - kind: The event type.
    ///   - fields: The event's typed task fields.
    ///   - timestamp: The event's utcoffset-corrected timestamp.
    ///   - hostname: The sender's node name (interned by the caller).
    ///   - clock: The Lamport clock the monitor observed for it.
    ///   - receivedAt: Local receive time.
    ///   - timelineLength: Bound on ``timeline``.
    ///   - limits: Most bytes kept of each text (``TextField``) and of each name or id.
    ///   - intern: Shares storage for names, hostnames, queues.
    mutating func merge(
        _ kind: CeleryEventKind, fields f: TaskEventFields, timestamp: Double?, hostname: String?,
        clock: Int, receivedAt: Double, timelineLength: Int, limits: TextLimits, intern: inout StringInterner
    ) {
        lastEventReceivedAt = receivedAt
        self.clock = clock
        if case .other(let type) = kind, type.utf8.count > limits.nameBytes {
            // A custom type's name is stored in the timeline: keep a bounded prefix of it.
            addTimelineEntry(
                .other(StoredText.prefix(type, bytes: limits.nameBytes)), timestamp: timestamp, hostname: hostname,
                limit: timelineLength)
        } else {
            addTimelineEntry(kind, timestamp: timestamp, hostname: hostname, limit: timelineLength)
        }

        let newState: TaskState?
        switch kind {
        case .taskSent: newState = .pending; times.set(.sent, timestamp)
        case .taskReceived: newState = .received; times.set(.received, timestamp)
        case .taskStarted: newState = .started; times.set(.started, timestamp)
        case .taskSucceeded: newState = .success; times.set(.succeeded, timestamp)
        case .taskFailed: newState = .failure; times.set(.failed, timestamp)
        case .taskRetried: newState = .retry; times.set(.retried, timestamp)
        case .taskRevoked: newState = .revoked; times.set(.revoked, timestamp)
        case .taskRejected: newState = .rejected; times.set(.rejected, timestamp)
        default: newState = nil
        }
        if kind == .taskSent {
            if let hostname { client = hostname }
        } else if let hostname {
            worker = hostname
        }

        if let newState, newState != .retry, state != .retry, Self.precedence(newState) > Self.precedence(state) {
            // Happened before the current state: merge fields only.
            if newState == .received {
                mergeReceivedFields(f, limits: limits, intern: &intern)
                return
            }
        } else if let newState {
            state = newState
        }
        mergeReceivedFields(f, limits: limits, intern: &intern)
        let names = limits.nameBytes
        if let v = f.queue { queue = intern(StoredText.prefix(v, bytes: names)) }
        if let v = f.exchange { exchange = intern(StoredText.prefix(v, bytes: names)) }
        if let v = f.routingKey { routingKey = intern(StoredText.prefix(v, bytes: names)) }
        if let v = f.result { result = limited(v, .result, limit: limits.fieldBytes) }
        if let v = f.runtime { storedRuntime = v }
        if let v = f.exception { exception = limited(v, .exception, limit: limits.fieldBytes) }
        if let v = f.traceback { traceback = limited(v, .traceback, limit: limits.fieldBytes) }
        if let v = f.terminated { terminated = v }
        if let v = f.signum { signum = v }
        if let v = f.expired { expired = v }
        if let v = f.requeue { requeue = v }
    }

    /// ``Celeriac/TaskState/precedence`` by a switch on the case: that one goes through the
    /// state's status string, a string comparison per event here.
    @inline(__always)
    static func precedence(_ state: TaskState) -> Int {
        switch state {
        case .success: 0
        case .failure: 1
        case .revoked: 3
        case .started: 4
        case .received: 5
        case .rejected: 6
        case .retry: 7
        case .pending: 8
        }
    }

    /// The `merge_rules[RECEIVED]` fields.
    private mutating func mergeReceivedFields(_ f: TaskEventFields, limits: TextLimits, intern: inout StringInterner) {
        let names = limits.nameBytes
        if let v = f.name { name = intern(StoredText.prefix(v, bytes: names)) }
        if let v = f.args { args = limited(v, .args, limit: limits.fieldBytes) }
        if let v = f.kwargs { kwargs = limited(v, .kwargs, limit: limits.fieldBytes) }
        if let v = f.parentID { parentID = StoredText.prefix(v, bytes: names) }
        if let v = f.rootID { rootID = v == uuid ? uuid : StoredText.prefix(v, bytes: names) }
        if let v = f.retries { retries = v }
        if let v = f.eta { eta = StoredText.prefix(v, bytes: names) }
        if let v = f.expires { expires = StoredText.prefix(v, bytes: names) }
    }

    private mutating func addTimelineEntry(_ kind: CeleryEventKind, timestamp: Double?, hostname: String?, limit: Int) {
        let packed = PackedEntry(kind: kind, timestamp: timestamp, hostname: hostname)
        // Duplicates (same type, time and sender) are delivered twice, not new history.
        if entries.contains(packed) { return }
        if entries.isEmpty { entries.reserveCapacity(4) }
        let t = packed.timestamp
        var i = entries.count
        while i > 0, entries[i - 1].timestamp > t { i -= 1 }
        entries.insert(packed, at: i)
        if entries.count > max(limit, 1) { entries.removeFirst(entries.count - max(limit, 1)) }
    }

    // MARK: Memory

    /// Estimated heap bytes owned by this record beyond its inline size: strings too long for
    /// Swift's inline small-string form, the timeline buffer and the out-of-line fields.
    ///
    /// Names, hostnames and queues are usually shared with other records (interned) but are
    /// counted here all the same, so the sum over records is an upper bound, whatever the
    /// events hold. Called once per task event (``TaskStore``'s byte budget): no allocation,
    /// each string's length is read from its header.
    var approximateHeapBytes: Int {
        var n = Self.heapBytes(uuid) + Self.heapBytes(name) + Self.heapBytes(args) + Self.heapBytes(kwargs)
        n += Self.heapBytes(result) + Self.heapBytes(worker) + Self.heapBytes(client)
        n += Self.heapBytes(queue) + Self.heapBytes(exchange) + Self.heapBytes(routingKey)
        if let r = rootID, r != uuid { n += Self.heapBytes(r) }
        if !entries.isEmpty {
            n += Self.mallocSize(32 + entries.capacity * MemoryLayout<PackedEntry>.stride)
            // Hostnames are usually shared too; a custom kind's type name is the record's own.
            for e in entries { n += Self.heapBytes(e.text) }
        }
        if let x = extrasStorage.first {
            n += Self.mallocSize(32 + MemoryLayout<Extras>.stride)
            n += Self.heapBytes(x.exception) + Self.heapBytes(x.traceback) + Self.heapBytes(x.eta)
            n += Self.heapBytes(x.expires) + Self.heapBytes(x.parentID) + Self.heapBytes(x.retryOf)
            n += Self.heapBytes(x.retriedAs) + Self.heapBytes(x.groupID)
            if !x.childIDs.isEmpty {
                n += Self.mallocSize(32 + x.childIDs.capacity * MemoryLayout<String>.stride)
                for id in x.childIDs { n += Self.heapBytes(id) }
            }
            if !x.originalSizes.isEmpty { n += Self.mallocSize(64 + x.originalSizes.capacity * 32) }
        }
        return n
    }

    private static func heapBytes(_ s: String?) -> Int {
        guard let s else { return 0 }
        let count = s.utf8.count
        return count <= 15 ? 0 : mallocSize(32 + count + 1)
    }

    private static func mallocSize(_ n: Int) -> Int { (n + 8 + 15) / 16 * 16 }
}

extension TaskRecord {
    /// The out-of-line fields.
    struct Extras: Sendable, Equatable {
        var exception: String?
        var traceback: String?
        var eta: String?
        var expires: String?
        var parentID: String?
        var terminated: Bool?
        var expired: Bool?
        var signum: Int?
        var requeue: Bool?
        var retryOf: String?
        var retriedAs: String?
        var groupID: String?
        /// At most ``TaskRecord/maxChildIDs``.
        var childIDs: [String] = []
        var childCount = 0
        /// UTF-8 sizes of the texts held truncated, as sent.
        var originalSizes: [TextField: Int] = [:]
    }

    /// Most bytes a record keeps of each text it stores.
    struct TextLimits: Sendable, Hashable {
        /// Of each ``TextField`` (args, kwargs, result, exception, traceback).
        var fieldBytes: Int
        /// Of each name or id (task name, queue, exchange, routing key, ETA, expiry, parent and root ids).
        var nameBytes: Int
    }

    /// Once-per-task statistics already taken, so duplicates and re-orderings count once.
    struct Accounted: OptionSet, Sendable, Hashable {
        let rawValue: UInt8
        static let succeeded = Accounted(rawValue: 1 << 0)
        static let failed = Accounted(rawValue: 1 << 1)
        static let typeSucceeded = Accounted(rawValue: 1 << 2)
        static let typeFailed = Accounted(rawValue: 1 << 3)
        static let runtime = Accounted(rawValue: 1 << 4)
        static let failure = Accounted(rawValue: 1 << 5)
        static let failureNamed = Accounted(rawValue: 1 << 6)
        /// The stored result was read (``ClusterState/noteResults(_:requested:)``) since the
        /// task last became ready.
        static let resultRead = Accounted(rawValue: 1 << 7)
    }

    /// The eight state timestamps in one block (NaN = absent) instead of eight optionals.
    struct StateTimes: Sendable, Equatable {
        enum Slot: Int { case sent, received, started, succeeded, failed, retried, revoked, rejected }
        private var t0 = Double.nan, t1 = Double.nan, t2 = Double.nan, t3 = Double.nan
        private var t4 = Double.nan, t5 = Double.nan, t6 = Double.nan, t7 = Double.nan

        func get(_ slot: Slot) -> Double? {
            let v: Double
            switch slot {
            case .sent: v = t0
            case .received: v = t1
            case .started: v = t2
            case .succeeded: v = t3
            case .failed: v = t4
            case .retried: v = t5
            case .revoked: v = t6
            case .rejected: v = t7
            }
            return v.isNaN ? nil : v
        }

        /// Celery sets the state's time from every such event, including duplicates; an event
        /// without a timestamp leaves a known time alone.
        mutating func set(_ slot: Slot, _ value: Double?) {
            guard let value else { return }
            switch slot {
            case .sent: t0 = value
            case .received: t1 = value
            case .started: t2 = value
            case .succeeded: t3 = value
            case .failed: t4 = value
            case .retried: t5 = value
            case .revoked: t6 = value
            case .rejected: t7 = value
            }
        }

        static func == (a: StateTimes, b: StateTimes) -> Bool {
            Slot.allSlots.allSatisfy { a.get($0) == b.get($0) }
        }
    }

    /// A timeline entry in 32 bytes: the kind as a code; a custom kind's type name is stored in
    /// place of the hostname.
    struct PackedEntry: Sendable, Hashable {
        let code: UInt8
        let timestamp: Double  // NaN = none; compares as "oldest" via the ordering below
        let text: String?

        init(kind: CeleryEventKind, timestamp: Double?, hostname: String?) {
            self.timestamp = timestamp ?? -.infinity
            switch kind {
            case .taskSent: code = 0
            case .taskReceived: code = 1
            case .taskStarted: code = 2
            case .taskSucceeded: code = 3
            case .taskFailed: code = 4
            case .taskRetried: code = 5
            case .taskRevoked: code = 6
            case .taskRejected: code = 7
            case .workerOnline: code = 8
            case .workerHeartbeat: code = 9
            case .workerOffline: code = 10
            case .other(let type):
                code = 255
                self.text = type
                return
            }
            self.text = hostname
        }

        var entry: TimelineEntry {
            let kind: CeleryEventKind
            switch code {
            case 0: kind = .taskSent
            case 1: kind = .taskReceived
            case 2: kind = .taskStarted
            case 3: kind = .taskSucceeded
            case 4: kind = .taskFailed
            case 5: kind = .taskRetried
            case 6: kind = .taskRevoked
            case 7: kind = .taskRejected
            case 8: kind = .workerOnline
            case 9: kind = .workerHeartbeat
            case 10: kind = .workerOffline
            default: kind = .other(text ?? "")
            }
            return TimelineEntry(
                kind: kind, timestamp: timestamp.isFinite ? timestamp : nil, hostname: code == 255 ? nil : text)
        }
    }
}

extension TaskRecord.StateTimes.Slot {
    static let allSlots: [Self] = [.sent, .received, .started, .succeeded, .failed, .retried, .revoked, .rejected]
}
