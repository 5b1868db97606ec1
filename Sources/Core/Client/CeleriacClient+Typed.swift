/// Typed sends: a ``CeleryTask`` type or a ``TaskHandle`` instead of a name and JSON.
extension CeleriacClient {
    /// Sends a task through its typed handle, like Celery's `apply_async`.
    ///
    /// - Parameters:
    ///   - handle: The task's name and types.
    ///   - arguments: Its arguments, sent positionally in parameter order.
    ///   - options: Countdown, queue, priority and the rest.
    /// - Returns: A result whose `get` returns `Output`.
    /// - Throws: `EncodingError` when the arguments do not encode, or what ``send(_:args:kwargs:options:)`` throws.
    public func send<Arguments, Output>(
        _ handle: TaskHandle<Arguments, Output>, _ arguments: Arguments, options: TaskSendOptions = .init()
    ) async throws -> TypedAsyncResult<Output> {
        let call = try handle.call(arguments)
        return TypedAsyncResult(try await send(handle.name, args: call.args, kwargs: call.kwargs, options: options))
    }

    /// Sends a task through its typed handle, like Celery's `delay`.
    ///
    /// - Parameters:
    ///   - handle: The task's name and types.
    ///   - arguments: Its arguments, sent positionally in parameter order.
    /// - Returns: A result whose `get` returns `Output`.
    public func delay<Arguments, Output>(_ handle: TaskHandle<Arguments, Output>, _ arguments: Arguments) async throws -> TypedAsyncResult<Output> {
        try await send(handle, arguments)
    }

    /// Sends a ``CeleryTask``, like Celery's `apply_async`.
    ///
    /// - Parameters:
    ///   - task: The task type.
    ///   - arguments: Its arguments.
    ///   - options: Countdown, queue, priority and the rest.
    /// - Returns: A result whose `get` returns the task's `Output`.
    public func send<T: CeleryTask>(_ task: T.Type, _ arguments: T.Arguments, options: TaskSendOptions = .init()) async throws -> TypedAsyncResult<T.Output> {
        try await send(T.handle, arguments, options: options)
    }

    /// Sends a ``CeleryTask``, like Celery's `delay`: `client.delay(SendSMS.self, .init(phone: p, text: t))`.
    ///
    /// - Parameters:
    ///   - task: The task type.
    ///   - arguments: Its arguments.
    /// - Returns: A result whose `get` returns the task's `Output`.
    public func delay<T: CeleryTask>(_ task: T.Type, _ arguments: T.Arguments) async throws -> TypedAsyncResult<T.Output> {
        try await send(T.handle, arguments)
    }

    /// Sends a ``CeleryTask`` that takes no arguments: `client.delay(Heartbeat.self)`.
    ///
    /// - Parameter task: The task type.
    /// - Returns: A result whose `get` returns the task's `Output`.
    public func delay<T: CeleryTask>(_ task: T.Type) async throws -> TypedAsyncResult<T.Output> where T.Arguments == NoArguments {
        try await send(T.handle, NoArguments())
    }
}
