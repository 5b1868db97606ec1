public import Celeriac
import Foundation

/// Filling a freshly started monitor from the result backend.
///
/// Events are pub/sub: a monitor sees nothing that happened before it subscribed. Results
/// stay in Redis (`celery-task-meta-<id>`, a day by default), so qmon can show recent outcomes
/// at once by turning each stored result into the one event a worker sent when it finished
/// the task, and applying that like any other event (so every statistic stays consistent).
extension ClusterState {
    /// The event a worker sent when it left a task in `meta`'s state, rebuilt from the result.
    ///
    /// The event carries no `hostname`: a task event is also a sign of life of its sender, and a
    /// worker that finished a task an hour ago must not be shown online because of it. With
    /// `result_extended` the task name, arguments and queue are filled in.
    ///
    /// - Parameter meta: A stored result.
    /// - Returns: `task-succeeded`, `task-failed`, `task-revoked`, `task-retried` or
    ///   `task-started`; `nil` for PENDING and other states no event stands for.
    public static func backfillEvent(for meta: ResultMeta) -> CeleryEvent? {
        let type: String
        var f = JSONObject()
        f.append("uuid", .string(meta.taskID))
        switch meta.status {
        case .success:
            type = "task-succeeded"
            f.append("result", .string(PythonRepr.saferepr(meta.result)))
        case .failure, .retry:
            type = meta.status == .failure ? "task-failed" : "task-retried"
            f.append("exception", .string(meta.exception?.summary ?? PythonRepr.saferepr(meta.result)))
            if let traceback = meta.traceback { f.append("traceback", .string(traceback)) }
        case .revoked:
            type = "task-revoked"
            let reason = meta.exception?.message.first?.stringValue
            f.append("terminated", .bool(reason == "terminated"))
            f.append("signum", .null)
            f.append("expired", .bool(reason == "expired"))
        case .started:
            type = "task-started"
        case .pending, .received, .rejected:
            return nil
        }
        if let e = meta.extended {
            if let name = e.name { f.append("name", .string(name)) }
            if let args = e.args.arrayValue { f.append("args", .string(PythonRepr.argsRepr(args))) }
            if let kwargs = e.kwargs.objectValue { f.append("kwargs", .string(PythonRepr.kwargsRepr(kwargs))) }
            if let retries = e.retries { f.append("retries", .int(retries)) }
            if let queue = e.queue { f.append("queue", .string(queue)) }
        }
        if let parent = meta.parentID { f.append("parent_id", .string(parent)) }
        if let done = meta.dateDone { f.append("timestamp", .double(done.timeIntervalSince1970)) }
        f.append("type", .string(type))
        return try? CeleryEvent(fields: f)
    }

    /// Applies the event ``backfillEvent(for:)`` rebuilds from a stored result.
    ///
    /// Counts as one applied event (``eventCount``). Pass the result's completion time as
    /// `receivedAt` so rates record the task when it finished, not when qmon started.
    ///
    /// - Parameters:
    ///   - meta: A stored result.
    ///   - receivedAt: Local time to file the event under (`date_done`, else now).
    /// - Returns: Whether the result stood for an event and was applied.
    @discardableResult
    public mutating func backfill(_ meta: ResultMeta, at receivedAt: Double) -> Bool {
        guard let event = Self.backfillEvent(for: meta) else { return false }
        apply(event, receivedAt: receivedAt)
        return true
    }
}
