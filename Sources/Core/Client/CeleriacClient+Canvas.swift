import Foundation

/// Workflows sent from Swift: the messages a Python client's `sig.apply_async()` sends
/// (``CanvasPlanner``), so Python and Swift workers run them alike.
extension CeleriacClient {
    /// Applies `signature` (a task, chain, chord or group), as Celery's `apply_async`.
    ///
    /// Publishes the planned messages in order; a chord's size is set in the result backend just
    /// before its header's last member goes out, as Celery's client does. Results are
    /// subscribed as with ``send(_:args:kwargs:options:)``.
    /// - Returns: What the workflow's result is: a group's members, or one task's (a chain's
    ///   last step, a chord's body).
    /// - Throws: ``ProtocolError`` for a malformed workflow, ``RedisError``.
    @discardableResult
    public func apply(_ signature: Celeriac.Signature, args: [JSONValue] = [], kwargs: JSONObject = [:], options: JSONObject = [:]) async throws
        -> WorkflowResult
    {
        // As Python's `task.apply_async`: `ignore_result: false` whether or not this process has the task.
        var planner = CanvasPlanner(context: CanvasContext(replyTo: oid, origin: origin, defaultQueue: config.taskDefaultQueue, now: Date(),
                                                           newID: RandomUUID.string, isRegistered: { _ in true }))
        let result = try planner.apply(signature, args: args, kwargs: kwargs, options: options)
        for step in planner.plan.steps {
            switch step {
            case .setChordSize(let groupID, let size):
                guard let backend else { throw ResultsDisabledError() }
                try await backend.setChordSize(groupID: groupID, size: size)
            case .publish(let message):
                _ = try await publish(message, subscribing: true)
            }
        }
        switch result {
        case .task(let id, _): return .task(AsyncResult(id: id, client: self))
        case .group(let id, _, let members):
            return .group(GroupResult(id: id, results: members.map { AsyncResult(id: $0.id, client: self) }, client: self))
        }
    }

    /// Applies a typed workflow; its result decodes as the workflow's `Output`.
    public func apply<Output>(_ signature: TaskSignature<Output>) async throws -> TypedWorkflowResult<Output> {
        TypedWorkflowResult(untyped: try await apply(signature.signature))
    }
}

/// What applying a workflow gives: one task's result, or a group's.
public enum WorkflowResult: Sendable {
    case task(AsyncResult)
    case group(GroupResult)

    /// The task's or the group's id.
    public var id: String {
        switch self {
        case .task(let r): r.id
        case .group(let g): g.id
        }
    }

    /// Waits for the result: a task's value, or the list of a group's values.
    public func get(timeout: Duration? = nil) async throws -> JSONValue {
        switch self {
        case .task(let r): try await r.get(timeout: timeout)
        case .group(let g): .array(try await g.get(timeout: timeout))
        }
    }
}

/// A ``WorkflowResult`` whose value decodes as `Output`.
public struct TypedWorkflowResult<Output: Decodable & Sendable>: Sendable {
    public let untyped: WorkflowResult

    /// The task's or the group's id.
    public var id: String { untyped.id }

    /// Waits for the workflow's result and decodes it.
    public func get(timeout: Duration? = nil) async throws -> Output {
        try JSONValueDecoder().decode(Output.self, from: try await untyped.get(timeout: timeout))
    }
}
