/// Builders for the event types Celery defines, emitting exactly Celery 5.7's field order
/// (SPEC c table; verified against the captured samples byte for byte).
///
/// The order matters only for byte-identical output, not for interoperability, but matching it
/// lets tests compare our events with captured ones. Optional ids and datetimes are written as
/// `null`, never omitted, as Celery does; the one omitted field is `task-failed`'s `traceback`
/// for an unregistered task name.
extension CeleryEvent {
    /// `task-sent`, published by a client (or a pool child re-sending a retry or chain step)
    /// singly on `task.sent`.
    ///
    /// - Parameters:
    ///   - sender: The client, `gen<pid>@host`.
    ///   - clock: The sender's clock after `forward()`; Python clients send small values
    ///     (monitors ignore them, see ``LamportClock/observe(_:)``).
    ///   - timestamp: Epoch seconds.
    ///   - args: `repr` of the args (``PythonRepr/argsRepr(_:maxlen:)``), not JSON.
    ///   - kwargs: `repr` of the kwargs (``PythonRepr/kwargsRepr(_:maxlen:)``).
    ///   - eta: ISO-8601 text (``CeleryDate/format(_:)``) or `nil` for `null`.
    ///   - exchange: `""` for the default exchange.
    public static func taskSent(
        _ sender: EventSender, clock: Int?, timestamp: Double,
        uuid: String, rootID: String?, parentID: String?, name: String, args: String, kwargs: String,
        retries: Int, eta: String?, expires: String?, queue: String, exchange: String, routingKey: String
    ) -> CeleryEvent {
        var b = JSONObject()
        b.append("uuid", .string(uuid))
        b.append("root_id", optional(rootID))
        b.append("parent_id", optional(parentID))
        b.append("name", .string(name))
        b.append("args", .string(args))
        b.append("kwargs", .string(kwargs))
        b.append("retries", .int(retries))
        b.append("eta", optional(eta))
        b.append("expires", optional(expires))
        b.append("queue", .string(queue))
        b.append("exchange", .string(exchange))
        b.append("routing_key", .string(routingKey))
        return CeleryEvent(type: "task-sent", sender: sender, clock: clock, timestamp: timestamp, body: b)
    }

    /// `task-received`: the worker got the message (sent even for ETA tasks on arrival; not
    /// sent for expired or unregistered ones).
    ///
    /// - Parameter name: The shadow name if the message has one, else the task name.
    public static func taskReceived(
        _ sender: EventSender, clock: Int?, timestamp: Double,
        uuid: String, name: String, args: String, kwargs: String, rootID: String?, parentID: String?,
        retries: Int, eta: String?, expires: String?
    ) -> CeleryEvent {
        var b = JSONObject()
        b.append("uuid", .string(uuid))
        b.append("name", .string(name))
        b.append("args", .string(args))
        b.append("kwargs", .string(kwargs))
        b.append("root_id", optional(rootID))
        b.append("parent_id", optional(parentID))
        b.append("retries", .int(retries))
        b.append("eta", optional(eta))
        b.append("expires", optional(expires))
        return CeleryEvent(type: "task-received", sender: sender, clock: clock, timestamp: timestamp, body: b)
    }

    /// `task-started`: only the uuid.
    public static func taskStarted(_ sender: EventSender, clock: Int?, timestamp: Double, uuid: String) -> CeleryEvent {
        CeleryEvent(type: "task-started", sender: sender, clock: clock, timestamp: timestamp, body: ["uuid": .string(uuid)])
    }

    /// `task-succeeded`.
    ///
    /// - Parameters:
    ///   - result: `saferepr` of the return value (``PythonRepr/saferepr(_:maxlen:maxlevels:)``), e.g. `"5"`.
    ///   - runtime: Seconds the task body ran.
    public static func taskSucceeded(
        _ sender: EventSender, clock: Int?, timestamp: Double, uuid: String, result: String, runtime: Double
    ) -> CeleryEvent {
        var b = JSONObject()
        b.append("uuid", .string(uuid))
        b.append("result", .string(result))
        b.append("runtime", .double(runtime))
        return CeleryEvent(type: "task-succeeded", sender: sender, clock: clock, timestamp: timestamp, body: b)
    }

    /// `task-failed`.
    ///
    /// - Parameters:
    ///   - exception: `repr` of the exception, e.g. `"ValueError('boom')"`; Celery sends
    ///     `"NotRegistered('name')"` for an unknown task name and, for `Reject`, the text
    ///     `"reject requeue=False: <reason>"`.
    ///   - traceback: Formatted traceback; `nil` omits the key, as for an unregistered name.
    public static func taskFailed(
        _ sender: EventSender, clock: Int?, timestamp: Double, uuid: String, exception: String, traceback: String?
    ) -> CeleryEvent {
        var b = JSONObject()
        b.append("uuid", .string(uuid))
        b.append("exception", .string(exception))
        if let traceback { b.append("traceback", .string(traceback)) }
        return CeleryEvent(type: "task-failed", sender: sender, clock: clock, timestamp: timestamp, body: b)
    }

    /// `task-retried`: `exception` is the `repr` of the retry reason (`"KeyError('again')"`),
    /// `traceback` ends with the `celery.exceptions.Retry: Retry in 1s: …` line in Python.
    public static func taskRetried(
        _ sender: EventSender, clock: Int?, timestamp: Double, uuid: String, exception: String, traceback: String
    ) -> CeleryEvent {
        var b = JSONObject()
        b.append("uuid", .string(uuid))
        b.append("exception", .string(exception))
        b.append("traceback", .string(traceback))
        return CeleryEvent(type: "task-retried", sender: sender, clock: clock, timestamp: timestamp, body: b)
    }

    /// `task-revoked`.
    ///
    /// - Parameters:
    ///   - terminated: `true` when a running task was killed by a signal.
    ///   - signum: The signal *number* (15, 9) or `nil` for `null`.
    ///   - expired: `true` when revoked because `expires` passed (then no `task-received` precedes it).
    public static func taskRevoked(
        _ sender: EventSender, clock: Int?, timestamp: Double, uuid: String, terminated: Bool, signum: Int?, expired: Bool
    ) -> CeleryEvent {
        var b = JSONObject()
        b.append("uuid", .string(uuid))
        b.append("terminated", .bool(terminated))
        b.append("signum", signum.map(JSONValue.int) ?? .null)
        b.append("expired", .bool(expired))
        return CeleryEvent(type: "task-revoked", sender: sender, clock: clock, timestamp: timestamp, body: b)
    }

    /// `task-rejected`, sent after `task-failed` in the same batch for `Reject(requeue=…)`.
    public static func taskRejected(
        _ sender: EventSender, clock: Int?, timestamp: Double, uuid: String, requeue: Bool
    ) -> CeleryEvent {
        var b = JSONObject()
        b.append("uuid", .string(uuid))
        b.append("requeue", .bool(requeue))
        return CeleryEvent(type: "task-rejected", sender: sender, clock: clock, timestamp: timestamp, body: b)
    }

    /// `worker-online`, `worker-heartbeat` or `worker-offline`, which share their fields.
    ///
    /// - Parameters:
    ///   - kind: One of ``CeleryEventKind/workerOnline``, ``CeleryEventKind/workerHeartbeat``,
    ///     ``CeleryEventKind/workerOffline`` (any kind is accepted and written as its type).
    ///   - freq: Heartbeat interval, `2.0` by default; monitors expire a worker after `2 * freq`.
    ///   - active: Tasks executing now.
    ///   - processed: Tasks processed since start.
    ///   - loadavg: 1/5/15 minute load, rounded to 2 decimals as Celery does.
    ///   - swIdent: `"py-celery"` in Python workers.
    ///   - swVer: Version string, e.g. `"5.7.0"`.
    ///   - swSys: `platform.system()`, e.g. `"Linux"`.
    public static func worker(
        _ kind: CeleryEventKind, _ sender: EventSender, clock: Int?, timestamp: Double,
        freq: Double = 2.0, active: Int, processed: Int, loadavg: [Double],
        swIdent: String, swVer: String, swSys: String
    ) -> CeleryEvent {
        var b = JSONObject()
        b.append("freq", .double(freq))
        b.append("active", .int(active))
        b.append("processed", .int(processed))
        b.append("loadavg", .array(loadavg.map(JSONValue.double)))
        b.append("sw_ident", .string(swIdent))
        b.append("sw_ver", .string(swVer))
        b.append("sw_sys", .string(swSys))
        return CeleryEvent(type: kind.type, sender: sender, clock: clock, timestamp: timestamp, body: b)
    }

    private static func optional(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
}
