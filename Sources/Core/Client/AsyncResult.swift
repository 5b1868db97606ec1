/// A handle on one task's result, as Celery's `AsyncResult`.
public struct AsyncResult: Sendable {
    public let id: String
    let client: CeleriacClient

    init(id: String, client: CeleriacClient) {
        self.id = id
        self.client = client
    }

    /// The stored meta, or `nil` while the task is PENDING (Celery cannot tell "unknown" from "waiting").
    public func meta() async throws -> ResultMeta? {
        guard let backend = client.backend else { throw ResultsDisabledError() }
        return try await backend.meta(for: id)
    }

    /// The task's current state; PENDING when nothing is stored yet.
    public func state() async throws -> TaskState {
        try await meta()?.status ?? .pending
    }

    /// Waits for the task to be ready and returns its meta whatever the outcome.
    public func wait(timeout: Duration? = nil) async throws -> ResultMeta {
        guard let waiter = client.waiter else { throw ResultsDisabledError() }
        return try await waiter.waitReady(id, timeout: timeout)
    }

    /// Waits for the task and returns its return value.
    /// - Throws: ``TaskFailedError`` when the task failed or was revoked (with the exception and
    ///   traceback the worker stored), ``ResultTimeoutError`` after `timeout`.
    public func get(timeout: Duration? = nil) async throws -> JSONValue {
        let meta = try await wait(timeout: timeout)
        guard meta.status == .success else {
            throw TaskFailedError(taskID: id, state: meta.status, exception: meta.exception, traceback: meta.traceback)
        }
        return meta.result
    }

    /// Waits for the task and decodes its return value.
    public func get<R: Decodable>(as type: R.Type, timeout: Duration? = nil) async throws -> R {
        try JSONValueDecoder().decode(R.self, from: try await get(timeout: timeout))
    }

    /// Stops listening for this result and drops anything kept for it.
    public func forget() async { await client.waiter?.forget(id) }
}

/// A task ended in FAILURE or REVOKED.
public struct TaskFailedError: Error, Sendable, CustomStringConvertible {
    public let taskID: String
    public let state: TaskState
    public let exception: ExceptionInfo?
    public let traceback: String?
    public var description: String {
        "task \(taskID) \(state.rawValue): \(exception?.summary ?? "no exception stored")"
    }
}

/// Results were asked for while `result_backend` is disabled.
public struct ResultsDisabledError: Error, Sendable, CustomStringConvertible {
    public var description: String { "results are disabled (result_backend: disabled)" }
}
