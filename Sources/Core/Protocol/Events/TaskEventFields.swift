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
    init?(reading f: JSONObject) {
        guard let uuid = f.eventString("uuid") else { return nil }
        self.init(
            uuid: uuid, name: f.eventString("name"), args: f.eventString("args"), kwargs: f.eventString("kwargs"),
            rootID: f.eventString("root_id"), parentID: f.eventString("parent_id"), retries: f.eventInt("retries"),
            eta: f.eventString("eta"), expires: f.eventString("expires"),
            queue: f.eventString("queue"), exchange: f.eventString("exchange"), routingKey: f.eventString("routing_key"),
            result: f.eventString("result"), runtime: f.eventDouble("runtime"),
            exception: f.eventString("exception"), traceback: f.eventString("traceback"),
            terminated: f.eventBool("terminated"), signum: f.eventInt("signum"), expired: f.eventBool("expired"),
            requeue: f.eventBool("requeue"))
    }
}
