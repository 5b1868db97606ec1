/// One Celery event, as published on the `celeryev` exchange by workers and clients.
///
/// The event is its ordered ``fields`` object: that is what travels, what monitors that show
/// "every field" display, and what ``EventCodec`` writes back, so nothing a sender added is
/// lost and a decoded event re-encodes byte for byte. The typed properties (``kind``,
/// ``hostname``, ``clock``, ``task``, ``worker``, …) are a read-only view computed once from
/// those fields. To change an event, edit a copy of ``fields`` and build a new one with
/// ``init(fields:)``; to create one as a worker, use the builders such as
/// ``taskSucceeded(_:clock:timestamp:uuid:result:runtime:)``, which emit Celery's field order.
///
/// An event decoded by ``EventCodec`` on its fast path keeps its object's JSON text rather than
/// the parsed object: a monitor reads only the typed view, and building the ``fields`` tree for
/// every event was most of its decoding cost. ``fields`` parses that text when asked (so read
/// it once and keep the result if you need it repeatedly). Equality and hashing are by
/// ``fields``, from which everything else is computed.
public struct CeleryEvent: Sendable, Hashable {
    /// Every field exactly as sent, in the sender's order (`hostname, utcoffset, pid, clock,
    /// <type fields>, timestamp, type` for Celery).
    public var fields: JSONObject {
        switch storage {
        case .object(let o): return o
        case .text(let bytes):
            // The fast decoder checked this text against JSON's grammar before keeping it, and
            // it is one object, so the general parser accepts it; `[:]` is unreachable.
            guard case .object(let o)? = try? JSONParser.parse(bytes) else { return JSONObject() }
            return o
        }
    }

    /// Where ``fields`` comes from.
    enum Storage: Sendable {
        /// Parsed (built by a sender, or decoded by the general path).
        case object(JSONObject)
        /// The event object's JSON text, checked, sharing the message body's buffer.
        case text(ArraySlice<UInt8>)
    }

    private let storage: Storage
    /// The event type, taken from the `type` field (never from the channel).
    public let kind: CeleryEventKind
    /// Sender's node name: `w1@host` for workers, `gen<pid>@host` for clients and pool children.
    public let hostname: String?
    /// Sender's offset in hours *west* of UTC (`-2.0` for UTC+2). See ``adjustedTimestamp(localOffset:)``.
    public let utcoffset: Double?
    /// Sender's process id (the main worker process for task events, not the pool child).
    public let pid: Int?
    /// Sender's Lamport clock when it sent the event; `nil` if absent or `null` ("blind" events).
    public let clock: Int?
    /// Sender's `time.time()` when the event was created, epoch seconds.
    public let timestamp: Double?
    /// Task fields, for `task-*` events that carry a `uuid`.
    public let task: TaskEventFields?
    /// Worker fields, for `worker-*` events.
    public let worker: WorkerEventFields?

    /// The wire `type` string.
    public var type: String { kind.type }

    /// Builds the typed view of an event object.
    ///
    /// - Parameter fields: One decoded event object.
    /// - Throws: ``ProtocolError`` `missingField` when `type` is absent (or, for the task
    ///   types Celery defines, `uuid` is absent); `wrongType` when either is not a string.
    ///   Other fields are optional and read leniently (see ``TaskEventFields``).
    public init(fields: JSONObject) throws(ProtocolError) {
        guard let typeValue = fields["type"], !typeValue.isNull else { throw .missing("event.type") }
        guard case .string(let type) = typeValue else {
            throw .wrongType("event.type", expected: "string", got: typeValue)
        }
        let kind = CeleryEventKind(type: type)
        if kind.isTaskEvent && kind.isKnown && fields.eventString("uuid") == nil {
            // Celery's own state machine indexes tasks by uuid; a task event without one is unusable.
            if let u = fields["uuid"], !u.isNull {
                throw .wrongType("event.uuid", expected: "string", got: u)
            }
            throw .missing("event.uuid (\(type))")
        }
        self.init(checked: fields, kind: kind)
    }

    /// Computes the typed view of fields whose `type` (and `uuid`, if needed) were checked.
    private init(checked fields: JSONObject, kind: CeleryEventKind) {
        self.storage = .object(fields)
        self.kind = kind
        // One pass for the five envelope fields (first member with a key wins, as the
        // subscript reads): five lookups by name cost a monitor more than the rest of an event.
        var hostname: String?, utcoffset: Double?, pid: Int?, clock: Int?, timestamp: Double?
        var seen: UInt8 = 0
        for m in fields {
            let bit: UInt8
            switch m.key.utf8.count {
            case 3 where m.key == "pid": bit = 1
            case 5 where m.key == "clock": bit = 2
            case 8 where m.key == "hostname": bit = 4
            case 9 where m.key == "utcoffset": bit = 8
            case 9 where m.key == "timestamp": bit = 16
            default: continue
            }
            if seen & bit != 0 { continue }
            seen |= bit
            switch bit {
            case 1: pid = m.value.intValue
            case 2: clock = m.value.intValue
            case 4: hostname = m.value.stringValue
            case 8: utcoffset = m.value.doubleValue
            default: timestamp = m.value.doubleValue
            }
        }
        self.hostname = hostname
        self.utcoffset = utcoffset
        self.pid = pid
        self.clock = clock
        self.timestamp = timestamp
        self.task = kind.isTaskEvent ? TaskEventFields(reading: fields) : nil
        self.worker = kind.isWorkerEvent ? WorkerEventFields(reading: fields) : nil
    }

    /// Builds an event the way Celery's `EventDispatcher` does: `hostname, utcoffset, pid,
    /// clock`, then `body` in its order, then `timestamp, type`.
    ///
    /// Use the typed builders (``taskReceived(_:clock:timestamp:uuid:name:args:kwargs:rootID:parentID:retries:eta:expires:)``
    /// and friends) for Celery's own types; this is the general form for custom ones.
    /// - Parameters:
    ///   - type: The event type, e.g. `"task-progress"`.
    ///   - sender: Node name, UTC offset and pid of the publishing process.
    ///   - clock: The sender's clock after `forward()`; `nil` writes `null` (Celery's "blind").
    ///   - timestamp: Epoch seconds, injected so encoding stays pure.
    ///   - body: The type-specific fields, in the order they should appear.
    public init(type: String, sender: EventSender, clock: Int?, timestamp: Double, body: JSONObject) {
        var f = JSONObject()
        f.reserveCapacity(body.count + 6)
        f.append("hostname", .string(sender.hostname))
        f.append("utcoffset", .double(sender.utcoffset))
        f.append("pid", .int(sender.pid))
        f.append("clock", clock.map(JSONValue.int) ?? .null)
        // The dispatcher owns these keys (Python would reject them as duplicate keyword arguments).
        for m in body where !Self.dispatcherKeys.contains(m.key) { f.append(m.key, m.value) }
        f.append("timestamp", .double(timestamp))
        f.append("type", .string(type))
        self.init(checked: f, kind: CeleryEventKind(type: type))
    }

    /// An event whose typed view was read straight from its JSON text by ``EventFastDecoder``.
    init(
        text: ArraySlice<UInt8>, kind: CeleryEventKind, hostname: String?, utcoffset: Double?, pid: Int?,
        clock: Int?, timestamp: Double?, task: TaskEventFields?
    ) {
        self.storage = .text(text)
        self.kind = kind
        self.hostname = hostname
        self.utcoffset = utcoffset
        self.pid = pid
        self.clock = clock
        self.timestamp = timestamp
        self.task = task
        self.worker = nil
    }

    public static func == (a: CeleryEvent, b: CeleryEvent) -> Bool {
        // Everything else is computed from the fields; equal texts are equal fields.
        if case .text(let x) = a.storage, case .text(let y) = b.storage, x.elementsEqual(y) { return true }
        return a.kind == b.kind && a.fields == b.fields
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(fields) }

    private static let dispatcherKeys: Set<String> = ["hostname", "utcoffset", "pid", "clock", "timestamp", "type"]
}

extension JSONObject {
    /// Lenient readers for event fields: absent, `null` and wrong types all read as `nil`,
    /// matching Celery's receivers, which never validate event fields.
    func eventString(_ key: String) -> String? { self[key]?.stringValue }

    func eventInt(_ key: String) -> Int? { self[key]?.intValue }

    func eventBool(_ key: String) -> Bool? { self[key]?.boolValue }

    func eventDouble(_ key: String) -> Double? { self[key]?.doubleValue }
}
