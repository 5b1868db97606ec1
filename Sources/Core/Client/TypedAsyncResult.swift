/// An ``AsyncResult`` that knows its task's output type: what typed sends return.
///
/// ```swift
/// let sum: Int = try await client.delay(add, .init(x: 2, y: 3)).get(timeout: .seconds(5))
/// ```
public struct TypedAsyncResult<Output: Decodable & Sendable>: Sendable {
    /// The untyped handle, for meta, state and everything else ``AsyncResult`` offers.
    public let untyped: AsyncResult

    /// Wraps an untyped result, e.g. one rebuilt by id with ``CeleriacClient/result(id:)``.
    ///
    /// - Parameter untyped: The result to read as `Output`.
    public init(_ untyped: AsyncResult) { self.untyped = untyped }

    /// The task id.
    public var id: String { untyped.id }

    /// Waits for the task and decodes its return value as `Output`.
    ///
    /// - Parameter timeout: How long to wait; `nil` waits for ever.
    /// - Returns: The stored result.
    /// - Throws: ``TaskFailedError`` when the task failed or was revoked, ``ResultTimeoutError``
    ///   after `timeout`, `DecodingError` when the stored result is not an `Output`.
    public func get(timeout: Duration? = nil) async throws -> Output {
        try await untyped.get(as: Output.self, timeout: timeout)
    }

    /// Waits for the task and returns its meta whatever the outcome (``AsyncResult/wait(timeout:)``).
    public func wait(timeout: Duration? = nil) async throws -> ResultMeta { try await untyped.wait(timeout: timeout) }

    /// The task's current state (``AsyncResult/state()``).
    public func state() async throws -> TaskState { try await untyped.state() }

    /// Stops listening for this result (``AsyncResult/forget()``).
    public func forget() async { await untyped.forget() }
}
