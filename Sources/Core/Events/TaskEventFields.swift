/// The task-specific fields of a `task-*` event, typed.
///
/// Every field but ``uuid`` is optional because each event type carries only its own subset
/// (see the table in SPEC c): `task-started` has nothing but the uuid, `task-failed` for an
/// unregistered name has no `traceback`. A field that is present but of an unexpected type reads
/// as `nil` here and stays untouched in ``CeleryEvent/fields``: monitors show what they can
/// rather than drop a whole `task.multi` batch over one odd value.
///
/// `args`, `kwargs` and `result` are Python `repr` strings (`"(2, 3)"`, `"{'x': 10}"`), not
/// JSON: Celery sends them for display only. Do not parse them.
public struct TaskEventFields: Sendable, Hashable {
    /// Task id (`uuid`).
    public var uuid: String
    /// Task name (the shadow name if one was set), `task-sent` and `task-received` only.
    public var name: String?
    /// `repr` of the positional arguments, e.g. `"(2, 3)"`.
    public var args: String?
    /// `repr` of the keyword arguments, e.g. `"{'x': 10, 'y': 20}"`.
    public var kwargs: String?
    /// Workflow root id.
    public var rootID: String?
    /// Id of the task that sent this one (retries, chains).
    public var parentID: String?
    /// Retries so far.
    public var retries: Int?
    /// ISO-8601 ETA as Celery wrote it; parse with ``CeleryDate/parse(_:)`` if needed.
    public var eta: String?
    /// ISO-8601 expiry as Celery wrote it.
    public var expires: String?
    /// Queue the client routed to (`task-sent`).
    public var queue: String?
    /// Exchange the client published to, `""` for the default exchange (`task-sent`).
    public var exchange: String?
    /// Routing key the client published with (`task-sent`).
    public var routingKey: String?
    /// `repr` of the return value (`task-succeeded`), e.g. `"5"`.
    public var result: String?
    /// Run time in seconds (`task-succeeded`).
    public var runtime: Double?
    /// `repr` of the exception (`task-failed`, `task-retried`), e.g. `"ValueError('boom')"`.
    public var exception: String?
    /// Formatted traceback text (`task-failed`, `task-retried`).
    public var traceback: String?
    /// Whether the task was terminated by a signal (`task-revoked`).
    public var terminated: Bool?
    /// Signal number used to terminate (`task-revoked`); an int, while the revoke *command*
    /// names the signal as a string.
    public var signum: Int?
    /// Whether the task was revoked because it expired (`task-revoked`).
    public var expired: Bool?
    /// Whether a rejected message was requeued (`task-rejected`).
    public var requeue: Bool?

    /// Creates the fields; everything but the uuid defaults to absent.
    public init(
        uuid: String, name: String? = nil, args: String? = nil, kwargs: String? = nil,
        rootID: String? = nil, parentID: String? = nil, retries: Int? = nil,
        eta: String? = nil, expires: String? = nil,
        queue: String? = nil, exchange: String? = nil, routingKey: String? = nil,
        result: String? = nil, runtime: Double? = nil,
        exception: String? = nil, traceback: String? = nil,
        terminated: Bool? = nil, signum: Int? = nil, expired: Bool? = nil, requeue: Bool? = nil
    ) {
        self.uuid = uuid
        self.name = name
        self.args = args
        self.kwargs = kwargs
        self.rootID = rootID
        self.parentID = parentID
        self.retries = retries
        self.eta = eta
        self.expires = expires
        self.queue = queue
        self.exchange = exchange
        self.routingKey = routingKey
        self.result = result
        self.runtime = runtime
        self.exception = exception
        self.traceback = traceback
        self.terminated = terminated
        self.signum = signum
        self.expired = expired
        self.requeue = requeue
    }

    /// Reads the typed view of an event's fields; `nil` when there is no string `uuid`.
    ///
    /// One pass over the members, each key matched by its length and first byte before a
    /// single comparison: looking each of the twenty fields up by name scanned the object
    /// twenty times and was the monitor's largest cost per event. As with ``JSONObject``'s
    /// subscript, the first member with a key wins, and `null` or a wrong type reads as `nil`.
    init?(reading f: JSONObject) {
        var seen: UInt32 = 0
        var uuid: String?, name: String?, args: String?, kwargs: String?, rootID: String?, parentID: String?
        var eta: String?, expires: String?, queue: String?, exchange: String?, routingKey: String?
        var result: String?, exception: String?, traceback: String?
        var retries: Int?, signum: Int?, runtime: Double?, terminated: Bool?, expired: Bool?, requeue: Bool?
        for m in f {
            guard let key = Key(m.key) else { continue }
            let bit: UInt32 = 1 << key.rawValue
            if seen & bit != 0 { continue }
            seen |= bit
            let v = m.value
            switch key {
            case .uuid: uuid = v.stringValue
            case .name: name = v.stringValue
            case .args: args = v.stringValue
            case .kwargs: kwargs = v.stringValue
            case .rootID: rootID = v.stringValue
            case .parentID: parentID = v.stringValue
            case .retries: retries = v.intValue
            case .eta: eta = v.stringValue
            case .expires: expires = v.stringValue
            case .queue: queue = v.stringValue
            case .exchange: exchange = v.stringValue
            case .routingKey: routingKey = v.stringValue
            case .result: result = v.stringValue
            case .runtime: runtime = v.doubleValue
            case .exception: exception = v.stringValue
            case .traceback: traceback = v.stringValue
            case .terminated: terminated = v.boolValue
            case .signum: signum = v.intValue
            case .expired: expired = v.boolValue
            case .requeue: requeue = v.boolValue
            }
        }
        guard let uuid else { return nil }
        self.init(
            uuid: uuid, name: name, args: args, kwargs: kwargs, rootID: rootID, parentID: parentID, retries: retries,
            eta: eta, expires: expires, queue: queue, exchange: exchange, routingKey: routingKey,
            result: result, runtime: runtime, exception: exception, traceback: traceback,
            terminated: terminated, signum: signum, expired: expired, requeue: requeue)
    }

    /// The task fields' wire keys.
    private enum Key: UInt32 {
        case uuid, name, args, kwargs, rootID, parentID, retries, eta, expires, queue, exchange, routingKey
        case result, runtime, exception, traceback, terminated, signum, expired, requeue

        /// The field `key` names, or `nil` for any other key (`hostname`, `clock`, …).
        init?(_ key: String) {
            let u = key.utf8
            guard let first = u.first else { return nil }
            let candidate: (Key, String)
            switch (u.count, first) {
            case (3, UInt8(ascii: "e")): candidate = (.eta, "eta")
            case (4, UInt8(ascii: "u")): candidate = (.uuid, "uuid")
            case (4, UInt8(ascii: "n")): candidate = (.name, "name")
            case (4, UInt8(ascii: "a")): candidate = (.args, "args")
            case (5, UInt8(ascii: "q")): candidate = (.queue, "queue")
            case (6, UInt8(ascii: "k")): candidate = (.kwargs, "kwargs")
            case (6, UInt8(ascii: "r")): candidate = (.result, "result")
            case (6, UInt8(ascii: "s")): candidate = (.signum, "signum")
            case (7, UInt8(ascii: "r")):
                switch key {
                case "root_id": self = .rootID; return
                case "retries": self = .retries; return
                case "runtime": self = .runtime; return
                case "requeue": self = .requeue; return
                default: return nil
                }
            case (7, UInt8(ascii: "e")):
                switch key {
                case "expires": self = .expires; return
                case "expired": self = .expired; return
                default: return nil
                }
            case (8, UInt8(ascii: "e")): candidate = (.exchange, "exchange")
            case (9, UInt8(ascii: "p")): candidate = (.parentID, "parent_id")
            case (9, UInt8(ascii: "e")): candidate = (.exception, "exception")
            case (9, UInt8(ascii: "t")): candidate = (.traceback, "traceback")
            case (10, UInt8(ascii: "t")): candidate = (.terminated, "terminated")
            case (11, UInt8(ascii: "r")): candidate = (.routingKey, "routing_key")
            default: return nil
            }
            guard key == candidate.1 else { return nil }
            self = candidate.0
        }
    }
}
