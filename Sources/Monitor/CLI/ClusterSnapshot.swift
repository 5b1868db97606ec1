public import Celeriac

/// The model as one JSON document: what `qmon snapshot --json` prints, for scripts, alerts and
/// tests that want the dashboard's numbers without a terminal.
///
/// Keys are snake_case like Celery's own JSON; times are epoch seconds of the monitor's clock;
/// absent values are `null`. Top level: `generated_at`, `summary`, `workers` (with `online`
/// at `generated_at`), `task_types` (counts per state, rates, run-time percentiles),
/// `failures` (groups, newest first), `queues` (depth per priority and the next task id) and
/// `tasks` (the newest first, at most `taskLimit`; `truncated` maps each text held cut short
/// to its original size in bytes). `summary.events_dropped` counts events the feed dropped
/// because the model fell behind, `summary.task_bytes` what the held tasks take by the store's
/// count (at most `--max-task-memory`).
///
/// Always valid JSON (RFC 8259), whatever the events held: strings are written from Swift
/// strings (valid Unicode, every control character escaped), and a number that JSON cannot
/// express (NaN, ±infinity from a `1e400` or `NaN` in an event) is written as `null`.
public enum ClusterSnapshot {
    /// Builds the document.
    ///
    /// - Parameters:
    ///   - state: The model.
    ///   - now: Current local time, epoch seconds (for online states and rates).
    ///   - taskLimit: Newest tasks included at most.
    public static func json(_ state: ClusterState, now: Double, taskLimit: Int = 50) -> JSONValue {
        var o = JSONObject()
        o.append("generated_at", number(now))
        o.append("summary", summary(state.summary(now: now)))
        o.append("workers", .array(state.workersByName.map { worker($0, now: now) }))
        o.append("task_types", .array(state.taskTypesByName.map { taskType($0, now: now) }))
        o.append("failures", .array(state.failures.newestFirst.map(failure)))
        o.append("queues", .array(state.queues.map(queue)))
        o.append("tasks", .array(state.tasks.newest(taskLimit).map(task)))
        return .object(o)
    }

    static func summary(_ s: ClusterSummary) -> JSONValue {
        var o = JSONObject()
        o.append("workers_online", .int(s.workersOnline))
        o.append("workers_total", .int(s.workersTotal))
        o.append("tasks_per_second", number(s.tasksPerSecond))
        o.append("tasks_per_second_1m", number(s.tasksPerSecondLastMinute))
        o.append("tasks_per_second_15m", number(s.tasksPerSecondLast15Minutes))
        o.append("failures_last_minute", .int(s.failuresPerMinute))
        o.append("events_per_second", number(s.eventsPerSecond))
        o.append("total_events", .int(s.totalEvents))
        o.append("tasks_held", .int(s.tasksHeld))
        o.append("tasks_evicted", .int(s.tasksEvicted))
        o.append("task_bytes", .int(s.taskBytes))
        o.append("events_dropped", .int(s.eventsDropped))
        return .object(o)
    }

    static func worker(_ w: WorkerState, now: Double) -> JSONValue {
        var o = JSONObject()
        o.append("hostname", .string(w.hostname))
        o.append("online", .bool(w.isOnline(now: now)))
        o.append("active", optional(w.active))
        o.append("processed", optional(w.processed))
        o.append("pid", optional(w.pid))
        o.append("pool", optional(w.pool))
        o.append("concurrency", optional(w.concurrency))
        o.append("prefetch_count", optional(w.prefetchCount))
        o.append("loadavg", w.loadavg.map { .array($0.map(number)) } ?? .null)
        o.append("sw_ident", optional(w.swIdent))
        o.append("sw_ver", optional(w.swVer))
        o.append("freq", number(w.freq))
        o.append("last_heartbeat", optional(w.lastHeartbeat))
        o.append("clock_drift", optional(w.clockDrift))
        o.append("offline_at", optional(w.offlineAt))
        return .object(o)
    }

    static func taskType(_ t: TaskTypeStats, now: Double) -> JSONValue {
        var o = JSONObject()
        o.append("name", .string(t.name))
        var counts = JSONObject()
        for state in TaskState.allCases { counts.append(state.rawValue, .int(t.count(in: state))) }
        o.append("counts", .object(counts))
        o.append("total", .int(t.total))
        o.append("succeeded", .int(t.succeeded.total))
        o.append("failed", .int(t.failed.total))
        o.append("rate_1m", number(t.completedRate(over: 60, now: now)))
        if let p = t.runtimePercentiles {
            o.append("runtime", ["p50": number(p.p50), "p95": number(p.p95), "p99": number(p.p99),
                                 "max": number(p.max), "count": .int(p.count)])
        } else {
            o.append("runtime", .null)
        }
        if let e = t.lastError {
            o.append("last_error", ["exception": .string(e.exception), "task_id": .string(e.taskID), "at": number(e.at)])
        } else {
            o.append("last_error", .null)
        }
        return .object(o)
    }

    static func failure(_ g: FailureGroups.Group) -> JSONValue {
        var o = JSONObject()
        o.append("task_name", optional(g.key.taskName))
        o.append("exception_type", .string(g.key.exceptionType))
        o.append("count", .int(g.count))
        o.append("first_seen", number(g.firstSeen))
        o.append("last_seen", number(g.lastSeen))
        o.append("latest_exception", .string(g.latestException))
        o.append("latest_task_id", .string(g.latestTaskID))
        return .object(o)
    }

    static func queue(_ q: QueueSample) -> JSONValue {
        var o = JSONObject()
        o.append("name", .string(q.name))
        o.append("total", .int(q.total))
        var depths = JSONObject()
        for d in q.depths { depths.append(String(d.priority), .int(d.depth)) }
        o.append("depths", .object(depths))
        o.append("oldest_task_id", optional(q.oldestTaskID))
        o.append("oldest_message_age", optional(q.oldestMessageAge))
        o.append("sampled_at", number(q.sampledAt))
        return .object(o)
    }

    static func task(_ t: TaskRecord) -> JSONValue {
        var o = JSONObject()
        o.append("uuid", .string(t.uuid))
        o.append("name", optional(t.name))
        o.append("state", .string(t.state.rawValue))
        o.append("worker", optional(t.worker))
        o.append("client", optional(t.client))
        o.append("queue", optional(t.queue))
        o.append("args", optional(t.args))
        o.append("kwargs", optional(t.kwargs))
        o.append("result", optional(t.result))
        o.append("exception", optional(t.exception))
        o.append("runtime", optional(t.runtime))
        o.append("retries", optional(t.retries))
        o.append("sent_at", optional(t.sentAt))
        o.append("received_at", optional(t.receivedAt))
        o.append("started_at", optional(t.startedAt))
        o.append("state_at", optional(t.stateTimestamp))
        o.append("retry_of", optional(t.retryOf))
        o.append("retried_as", optional(t.retriedAs))
        var truncated = JSONObject()
        for field in TaskRecord.TextField.allCases {
            if let n = t.originalByteCount(of: field) { truncated.append(field.rawValue, .int(n)) }
        }
        o.append("truncated", .object(truncated))
        return .object(o)
    }

    private static func optional(_ v: String?) -> JSONValue { v.map(JSONValue.string) ?? .null }
    private static func optional(_ v: Int?) -> JSONValue { v.map(JSONValue.int) ?? .null }
    private static func optional(_ v: Double?) -> JSONValue { v.map(number) ?? .null }

    /// A JSON number, or `null` for NaN and infinities: `JSONWriter` writes those as Python's
    /// `NaN`/`Infinity`, which `json.load` reads but RFC 8259 parsers (jq, JSONSerialization,
    /// JavaScript) reject.
    static func number(_ v: Double) -> JSONValue { v.isFinite ? .double(v) : .null }
}
