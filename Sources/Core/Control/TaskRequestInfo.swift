/// A task request as `inspect active`, `reserved`, `scheduled` and `query_task` report it
/// (Celery's `Request.info()`).
///
/// Unlike events, these replies carry args and kwargs as JSON values, not reprs (unless the
/// command asked for `safe`, then Celery sends the `argsrepr`/`kwargsrepr` strings; pass
/// `.string(...)` for those).
public struct TaskRequestInfo: Sendable, Hashable {
    /// Task id.
    public var id: String
    /// Task name.
    public var name: String
    /// Positional arguments: a JSON list, or the repr string for `safe` requests.
    public var args: JSONValue
    /// Keyword arguments: a JSON object, or the repr string for `safe` requests.
    public var kwargs: JSONValue
    /// The registered task type, the same name as ``name`` in practice.
    public var type: String
    /// The worker's node name.
    public var hostname: String
    /// Epoch seconds the task started running; `nil` (`null`) for reserved and scheduled ones.
    public var timeStart: Double?
    /// Whether the message was acked (Celery acks at start by default).
    public var acknowledged: Bool
    /// The message's `delivery_info.exchange` (`""` for the default exchange).
    public var exchange: String
    /// The message's `delivery_info.routing_key` (the queue).
    public var routingKey: String
    /// The message priority (`properties.priority`), `nil` for `null`.
    public var priority: Int?
    /// Whether the message was redelivered (restored from `unacked`).
    public var redelivered: Bool
    /// Pid of the process running the task; `nil` (`null`) until it runs.
    public var workerPID: Int?

    /// Creates a request description.
    public init(
        id: String, name: String, args: JSONValue, kwargs: JSONValue, type: String? = nil, hostname: String,
        timeStart: Double?, acknowledged: Bool, exchange: String, routingKey: String, priority: Int?,
        redelivered: Bool, workerPID: Int?
    ) {
        self.id = id
        self.name = name
        self.args = args
        self.kwargs = kwargs
        self.type = type ?? name
        self.hostname = hostname
        self.timeStart = timeStart
        self.acknowledged = acknowledged
        self.exchange = exchange
        self.routingKey = routingKey
        self.priority = priority
        self.redelivered = redelivered
        self.workerPID = workerPID
    }

    /// The dict in Celery's key order: `id, name, args, kwargs, type, hostname, time_start,
    /// acknowledged, delivery_info {exchange, routing_key, priority, redelivered}, worker_pid`.
    public var jsonValue: JSONValue {
        var d = JSONObject()
        d.append("exchange", .string(exchange))
        d.append("routing_key", .string(routingKey))
        d.append("priority", priority.map(JSONValue.int) ?? .null)
        d.append("redelivered", .bool(redelivered))
        var o = JSONObject()
        o.append("id", .string(id))
        o.append("name", .string(name))
        o.append("args", args)
        o.append("kwargs", kwargs)
        o.append("type", .string(type))
        o.append("hostname", .string(hostname))
        o.append("time_start", timeStart.map(JSONValue.double) ?? .null)
        o.append("acknowledged", .bool(acknowledged))
        o.append("delivery_info", .object(d))
        o.append("worker_pid", workerPID.map(JSONValue.int) ?? .null)
        return .object(o)
    }
}
