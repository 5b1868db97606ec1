/// Builders for the handler results Celery's built-in control commands return, so a Swift
/// worker answers Python clients (`celery inspect`, flower) with the shapes and texts they expect.
///
/// These are the *values* under the node name in a ``ControlReply``; the worker supplies the
/// data. Texts are Celery 5.7's (`celery/worker/control.py`) and match the captured replies.
public enum ControlReplyBody {
    /// `{"ok": text}`, Celery's `ok()`.
    public static func ok(_ text: String) -> JSONValue { .object(["ok": .string(text)]) }

    /// `{"error": text}`, Celery's `nok()` and kombu's reply for a handler that raised.
    public static func error(_ text: String) -> JSONValue { .object(["error": .string(text)]) }

    /// `ping` → `{"ok": "pong"}`.
    public static var pong: JSONValue { ok("pong") }

    /// The reply to an unknown method: kombu catches the `KeyError` from its handler lookup and
    /// replies `{"error": "KeyError('<method>')"}` (the exception's `repr`).
    public static func unknownCommand(_ method: String) -> JSONValue {
        error("KeyError(" + PythonRepr.stringRepr(method) + ")")
    }

    /// `revoke` without `terminate`: `{"ok": "tasks {'<id>', …} flagged as revoked"}`.
    ///
    /// Celery formats the *set* of ids, so the braces are Python's set repr (`set()` when
    /// empty). Python iterates a set in hash order; give the ids in the order you want shown.
    public static func revokeFlagged(_ ids: [String]) -> JSONValue {
        ok("tasks " + pythonSetRepr(ids) + " flagged as revoked")
    }

    /// `revoke` with `terminate`: `{"ok": "terminate: <id>, <id>"}` for the ids that were
    /// running here and got the signal, or ``revokeTerminateUnknown`` when none was.
    public static func revokeTerminated(_ ids: [String]) -> JSONValue {
        ids.isEmpty ? revokeTerminateUnknown : ok("terminate: " + ids.joined(separator: ", "))
    }

    /// `revoke` with `terminate` when no id runs on this worker: `{"ok": "terminate: tasks unknown"}`.
    public static var revokeTerminateUnknown: JSONValue { ok("terminate: tasks unknown") }

    /// `rate_limit` success: `{"ok": "new rate limit set successfully"}`.
    public static var rateLimitSet: JSONValue { ok("new rate limit set successfully") }

    /// `rate_limit` with an empty limit (source): `{"ok": "rate limit disabled successfully"}`.
    public static var rateLimitDisabled: JSONValue { ok("rate limit disabled successfully") }

    /// `rate_limit` for a task name not registered here (source): `{"error": "unknown task"}`.
    public static var rateLimitUnknownTask: JSONValue { error("unknown task") }

    /// `active` / `reserved`: a list of request dicts (`[]` when none).
    public static func requests(_ requests: [TaskRequestInfo]) -> JSONValue {
        .array(requests.map(\.jsonValue))
    }

    /// One `scheduled` entry: `{"eta": ISO or null, "priority": <timer priority>, "request": {…}}`.
    ///
    /// - Parameter priority: The ETA timer entry's priority (6 observed), **not** the message priority.
    public static func scheduledEntry(eta: String?, priority: Int, request: TaskRequestInfo) -> JSONValue {
        var o = JSONObject()
        o.append("eta", eta.map(JSONValue.string) ?? .null)
        o.append("priority", .int(priority))
        o.append("request", request.jsonValue)
        return .object(o)
    }

    /// `query_task`: `{"<id>": ["<state>", {request}], …}` with state `active`, `reserved` or
    /// `scheduled`; `{}` when no id is known here.
    public static func queryTask(_ entries: [(state: String, request: TaskRequestInfo)]) -> JSONValue {
        var o = JSONObject()
        for e in entries { o[e.request.id] = .array([.string(e.state), e.request.jsonValue]) }
        return .object(o)
    }

    /// `registered`: task names sorted by code point, as Python's `sorted()` does.
    public static func registered(_ names: [String]) -> JSONValue {
        .array(
            names.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) { $0.value < $1.value } }
                .map(JSONValue.string))
    }

    /// `revoked`: the revoked ids this worker remembers.
    public static func revoked(_ ids: [String]) -> JSONValue { .array(ids.map(JSONValue.string)) }

    /// `clock`: `{"clock": <int>}`.
    public static func clock(_ value: Int) -> JSONValue { .object(["clock": .int(value)]) }

    /// Mingle `hello` from another node: `{"revoked": [ids…], "clock": <app clock after forward()>}`.
    /// A worker answers its *own* hello with `null` (Celery returns `None` when `from_node` is itself).
    public static func hello(revoked: [String], clock: Int) -> JSONValue {
        var o = JSONObject()
        o.append("revoked", .array(revoked.map(JSONValue.string)))
        o.append("clock", .int(clock))
        return .object(o)
    }

    /// `stats`, in Celery's key order `total, pid, clock, uptime, pool, broker, prefetch_count, rusage`.
    ///
    /// - Parameters:
    ///   - total: Per task name, tasks processed, in first-seen order.
    ///   - pid: The main worker process id.
    ///   - clock: The app clock value; Celery sends it as a **string** (`"135"`) here, unlike
    ///     every other clock, and so does this builder.
    ///   - uptime: Whole seconds since start.
    ///   - pool: Pool description (`implementation`, `max-concurrency`, `processes`, …).
    ///   - broker: Connection info (`hostname`, `port`, `transport`, …).
    ///   - prefetchCount: The current prefetch count.
    ///   - rusage: `getrusage` fields (`utime`, `stime`, `maxrss`, …).
    public static func stats(
        total: JSONObject, pid: Int, clock: Int, uptime: Int, pool: JSONObject, broker: JSONObject,
        prefetchCount: Int, rusage: JSONObject
    ) -> JSONValue {
        var o = JSONObject()
        o.append("total", .object(total))
        o.append("pid", .int(pid))
        o.append("clock", .string(String(clock)))
        o.append("uptime", .int(uptime))
        o.append("pool", .object(pool))
        o.append("broker", .object(broker))
        o.append("prefetch_count", .int(prefetchCount))
        o.append("rusage", .object(rusage))
        return .object(o)
    }

    /// Python's `repr` of a set of strings: `{'a', 'b'}`, or `set()` when empty.
    /// Duplicates are dropped (keeping the first), as a set would.
    static func pythonSetRepr(_ items: [String]) -> String {
        var seen = Set<String>()
        let unique = items.filter { seen.insert($0).inserted }
        return unique.isEmpty ? "set()" : "{" + unique.map(PythonRepr.stringRepr).joined(separator: ", ") + "}"
    }
}
