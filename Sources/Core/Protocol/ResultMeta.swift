public import Foundation

/// A task's result-backend record, the value of `celery-task-meta-<task_id>`.
///
/// Plain JSON (not a kombu envelope). The worker `SETEX`es it and `PUBLISH`es the same
/// bytes on a channel of the same name. Field order follows Celery's `_get_result_meta` +
/// `_store_result`: `status, result, traceback, children, date_done, [group_id],
/// [parent_id], [extended fields], task_id`.
public struct ResultMeta: Sendable, Hashable {
    /// `result_extended=True` fields, written all six together (nulls included) as Celery does.
    public struct Extended: Sendable, Hashable {
        public var name: String?
        public var args: JSONValue
        public var kwargs: JSONValue
        public var worker: String?
        public var retries: Int?
        public var queue: String?

        public init(
            name: String? = nil, args: JSONValue = .null, kwargs: JSONValue = .null, worker: String? = nil,
            retries: Int? = nil, queue: String? = nil
        ) {
            self.name = name
            self.args = args
            self.kwargs = kwargs
            self.worker = worker
            self.retries = retries
            self.queue = queue
        }
    }

    public var status: TaskState
    /// Return value (SUCCESS), exception dict (FAILURE/RETRY/REVOKED), `{pid, hostname}` (STARTED).
    public var result: JSONValue
    /// Formatted Python traceback text, or `nil`.
    public var traceback: String?
    /// Child results: a list of `[[child_id, parent_tuple_or_null], group_or_null]`, or `null`
    /// (the revoke command handler writes `null`).
    public var children: JSONValue
    /// Set for ready states only.
    public var dateDone: Date?
    /// Only for group/chord members.
    public var groupID: String?
    /// Only when the task has a parent (chains, retries).
    public var parentID: String?
    public var taskID: String
    /// Present with `result_extended`.
    public var extended: Extended?
    /// Unknown keys (e.g. stamps with `result_extended`), kept and written before `task_id`.
    public var extra: JSONObject

    public init(
        status: TaskState, result: JSONValue, traceback: String? = nil, children: JSONValue = .array([]),
        dateDone: Date? = nil, groupID: String? = nil, parentID: String? = nil, taskID: String,
        extended: Extended? = nil, extra: JSONObject = [:]
    ) {
        self.status = status
        self.result = result
        self.traceback = traceback
        self.children = children
        self.dateDone = dateDone
        self.groupID = groupID
        self.parentID = parentID
        self.taskID = taskID
        self.extended = extended
        self.extra = extra
    }

    /// The exception for FAILURE/RETRY/REVOKED results; `nil` otherwise.
    public var exception: ExceptionInfo? {
        status.carriesException ? ExceptionInfo(json: result) : nil
    }

    // MARK: factories

    /// SUCCESS with the task's return value.
    public static func success(
        taskID: String, result: JSONValue, now: Date, parentID: String? = nil, groupID: String? = nil,
        children: JSONValue = .array([])
    ) -> ResultMeta {
        ResultMeta(status: .success, result: result, children: children, dateDone: now, groupID: groupID,
            parentID: parentID, taskID: taskID)
    }

    /// FAILURE with the exception and its traceback text.
    public static func failure(
        taskID: String, exception: ExceptionInfo, traceback: String?, now: Date, parentID: String? = nil,
        groupID: String? = nil
    ) -> ResultMeta {
        ResultMeta(status: .failure, result: exception.jsonValue, traceback: traceback, dateDone: now,
            groupID: groupID, parentID: parentID, taskID: taskID)
    }

    /// REVOKED with `TaskRevokedError(reason)`; reason is `terminated`, `expired` or
    /// `revoked`. Pass `children: .null` when writing from the revoke command handler.
    public static func revoked(
        taskID: String, reason: String, children: JSONValue = .array([]), now: Date, parentID: String? = nil,
        groupID: String? = nil
    ) -> ResultMeta {
        ResultMeta(status: .revoked, result: ExceptionInfo.revoked(reason).jsonValue, children: children,
            dateDone: now, groupID: groupID, parentID: parentID, taskID: taskID)
    }

    /// RETRY with the retry reason. Celery lists the re-sent task (same id) as the only
    /// child, `[[[taskID, null], null]]`, which is the default here; no `date_done`.
    public static func retry(
        taskID: String, exception: ExceptionInfo, traceback: String?, parentID: String? = nil,
        groupID: String? = nil, children: JSONValue? = nil
    ) -> ResultMeta {
        ResultMeta(status: .retry, result: exception.jsonValue, traceback: traceback,
            children: children ?? .array([.array([.array([.string(taskID), .null]), .null])]),
            groupID: groupID, parentID: parentID, taskID: taskID)
    }

    /// STARTED (only with `task_track_started`): result `{"pid": ..., "hostname": ...}`.
    public static func started(
        taskID: String, pid: Int, hostname: String, parentID: String? = nil, groupID: String? = nil
    ) -> ResultMeta {
        ResultMeta(status: .started, result: .object(["pid": .int(pid), "hostname": .string(hostname)]),
            groupID: groupID, parentID: parentID, taskID: taskID)
    }

    // MARK: wire

    private static let known: Set<String> = [
        "status", "result", "traceback", "children", "date_done", "group_id", "parent_id", "task_id",
        "name", "args", "kwargs", "worker", "retries", "queue",
    ]

    /// Decodes a stored or published result record.
    /// - Throws: ``ProtocolError``: `invalidJSON`, `missingField` (status, task_id),
    ///   `wrongType` (including an unknown status string).
    public static func decode(_ bytes: [UInt8]) throws(ProtocolError) -> ResultMeta {
        let value = try JSONParser.parseForProtocol(bytes, what: "result meta")
        guard case .object(let o) = value else {
            throw ProtocolError.wrongType("result meta", expected: "object", got: value)
        }
        let r = FieldReader(o, path: "")
        let statusText = try r.requiredString("status")
        guard let status = TaskState(rawValue: statusText) else {
            throw ProtocolError(.wrongType, "status: unknown state \(statusText.prefix(32))")
        }
        var extended: Extended?
        if o["name"] != nil || o["worker"] != nil || o["queue"] != nil {
            extended = Extended(
                name: try r.string("name"), args: o["args"] ?? .null, kwargs: o["kwargs"] ?? .null,
                worker: try r.string("worker"), retries: try r.int("retries"), queue: try r.string("queue"))
        }
        var extra = JSONObject()
        for m in o where !known.contains(m.key) { extra.append(m.key, m.value) }
        return ResultMeta(
            status: status, result: o["result"] ?? .null, traceback: try r.string("traceback"),
            children: o["children"] ?? .null, dateDone: try r.date("date_done"), groupID: try r.string("group_id"),
            parentID: try r.string("parent_id"), taskID: try r.requiredString("task_id"), extended: extended,
            extra: extra)
    }

    /// The record as Celery writes it (byte-identical to Python's `json.dumps` of its dict).
    public var jsonValue: JSONValue {
        var o = JSONObject()
        o.reserveCapacity(16)
        o.append("status", .string(status.rawValue))
        o.append("result", result)
        o.append("traceback", traceback.map { .string($0) } ?? .null)
        o.append("children", children)
        o.append("date_done", dateDone.map { .string(CeleryDate.format($0)) } ?? .null)
        if let groupID, !groupID.isEmpty { o.append("group_id", .string(groupID)) }
        if let parentID, !parentID.isEmpty { o.append("parent_id", .string(parentID)) }
        if let e = extended {
            o.append("name", e.name.map { .string($0) } ?? .null)
            o.append("args", e.args)
            o.append("kwargs", e.kwargs)
            o.append("worker", e.worker.map { .string($0) } ?? .null)
            o.append("retries", e.retries.map { .int($0) } ?? .null)
            o.append("queue", e.queue.map { .string($0) } ?? .null)
        }
        for m in extra { o[m.key] = m.value }
        o["task_id"] = .string(taskID)
        return .object(o)
    }

    /// The bytes to `SETEX`/`PUBLISH`: ``jsonValue`` serialized, written field by field
    /// without building the object first (a worker writes one per task).
    public func encoded() -> [UInt8] {
        // `extra` may replace a key in place; that ordering is the object's to get right.
        guard extra.isEmpty else { return jsonValue.serialized() }
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out.append(contentsOf: #"{"status": "#.utf8)
        JSONWriter.write(.string(status.rawValue), into: &out)
        out.append(contentsOf: #", "result": "#.utf8)
        JSONWriter.write(result, into: &out)
        out.append(contentsOf: #", "traceback": "#.utf8)
        JSONWriter.write(traceback.map { .string($0) } ?? .null, into: &out)
        out.append(contentsOf: #", "children": "#.utf8)
        JSONWriter.write(children, into: &out)
        out.append(contentsOf: #", "date_done": "#.utf8)
        JSONWriter.write(dateDone.map { .string(CeleryDate.format($0)) } ?? .null, into: &out)
        if let groupID, !groupID.isEmpty {
            out.append(contentsOf: #", "group_id": "#.utf8)
            JSONWriter.write(.string(groupID), into: &out)
        }
        if let parentID, !parentID.isEmpty {
            out.append(contentsOf: #", "parent_id": "#.utf8)
            JSONWriter.write(.string(parentID), into: &out)
        }
        if let e = extended {
            out.append(contentsOf: #", "name": "#.utf8)
            JSONWriter.write(e.name.map { .string($0) } ?? .null, into: &out)
            out.append(contentsOf: #", "args": "#.utf8)
            JSONWriter.write(e.args, into: &out)
            out.append(contentsOf: #", "kwargs": "#.utf8)
            JSONWriter.write(e.kwargs, into: &out)
            out.append(contentsOf: #", "worker": "#.utf8)
            JSONWriter.write(e.worker.map { .string($0) } ?? .null, into: &out)
            out.append(contentsOf: #", "retries": "#.utf8)
            JSONWriter.write(e.retries.map { .int($0) } ?? .null, into: &out)
            out.append(contentsOf: #", "queue": "#.utf8)
            JSONWriter.write(e.queue.map { .string($0) } ?? .null, into: &out)
        }
        out.append(contentsOf: #", "task_id": "#.utf8)
        JSONWriter.write(.string(taskID), into: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }
}
