import Logging

/// A task a worker can run: its name, how it binds arguments, and its body over JSON.
public struct RegisteredTask: Sendable {
    public let name: String
    /// Parameter names for binding keyword arguments (empty for raw tasks).
    public let parameters: [String]
    public let options: TaskOptions
    public let body: @Sendable (TaskArguments) async throws -> JSONValue

    public init(name: String, parameters: [String], options: TaskOptions = TaskOptions(),
                body: @escaping @Sendable (TaskArguments) async throws -> JSONValue) {
        self.name = name
        self.parameters = parameters
        self.options = options
        self.body = body
    }
}

/// Tasks by name, as Celery's `app.tasks`.
///
/// The way to add a task is ``register(_:)`` with a ``CeleryTask`` type: its name, parameter
/// list, options and body all come from the type. ``register(_:parameters:options:_:)`` (a
/// closure beside a list of parameter names) and ``registerRaw(_:options:_:)`` (JSON in, JSON
/// out) are the untyped paths, for interop shims and scripts.
public struct TaskRegistry: Sendable {
    public private(set) var tasks: [String: RegisteredTask] = [:]

    public init() {}

    /// The registered names, sorted (what `inspect registered` reports).
    public var names: [String] { tasks.keys.sorted() }

    /// The task `name`: a registered one, else one of Celery's built-ins (``builtinNames``).
    public subscript(name: String) -> RegisteredTask? { tasks[name] ?? builtin(name) }

    /// Registers a task over raw JSON arguments and result.
    public mutating func registerRaw(_ name: String, options: TaskOptions = TaskOptions(),
                                     _ body: @escaping @Sendable (TaskArguments) async throws -> JSONValue) {
        tasks[name] = RegisteredTask(name: name, parameters: [], options: options, body: body)
    }

    /// Registers a task type under its ``CeleryTask/name``, with its ``CeleryTask/options``.
    ///
    /// Each call binds the message's positional and keyword arguments to the task's
    /// ``CeleryTask/parameters`` by Python's rules (a wrong call is a `TypeError` result),
    /// decodes ``CeleryTask/Arguments`` from them, runs ``CeleryTask/run(_:context:)`` with the
    /// call's ``TaskContext`` and encodes its output as the result. A task whose `Arguments` is
    /// ``TaskArguments`` gets the call unbound.
    ///
    /// ```swift
    /// registry.register(SendSMS.self)
    /// ```
    /// - Parameter task: The task type.
    /// - Precondition: the parameter list can be read from `Arguments` (checked here, once, so
    ///   a type the probe cannot read stops the worker at start-up, not at its first call; see
    ///   ``TaskParameters/init(of:)`` for the fix).
    public mutating func register<T: CeleryTask>(_ task: T.Type) {
        let name = T.name
        let options = T.options
        let parameters: TaskParameters
        do {
            parameters = try T.parameters
        } catch {
            preconditionFailure("task \(name): \(error)")
        }
        let passesCallThrough = T.Arguments.self == TaskArguments.self
        tasks[name] = RegisteredTask(name: name, parameters: parameters.names, options: options) { call in
            let arguments: T.Arguments
            if passesCallThrough, let call = call as? T.Arguments {
                arguments = call
            } else {
                let bound = try call.bind(to: parameters, taskName: name)
                arguments = try JSONValueDecoder().decode(T.Arguments.self, from: .object(bound))
            }
            let context = TaskContext.current ?? TaskContext(id: "", name: name, hostname: "", logger: Logger(label: name), options: options)
            let output = try await T.run(arguments, context: context)
            // A JSON result is the result: no encoder for it (the benchmark's no-op returns `None`).
            if let json = output as? JSONValue { return json }
            return try JSONValueEncoder().encode(output)
        }
    }

    /// Registers a closure as a task: the untyped path (prefer a ``CeleryTask`` and
    /// ``register(_:)``). `parameters` names the function's parameters in order, so keyword
    /// arguments bind as in Python; the number of names must match the function's arity.
    ///
    /// ```swift
    /// registry.register("demo.add", parameters: ["x", "y"]) { (x: Int, y: Int) in x + y }
    /// ```
    public mutating func register<each A: Decodable & Sendable, R: Encodable & Sendable>(
        _ name: String,
        parameters: [String],
        options: TaskOptions = TaskOptions(),
        _ body: @escaping @Sendable (repeat each A) async throws -> R
    ) {
        var arity = 0
        for _ in repeat (each A).self { arity += 1 }
        precondition(arity == parameters.count, "task \(name): \(parameters.count) parameter names for \(arity) parameters")
        tasks[name] = RegisteredTask(name: name, parameters: parameters, options: options) { call in
            let bound = try call.bind(to: parameters, taskName: name)
            let cursor = ArgumentCursor(values: bound)
            let result = try await body(repeat try cursor.next((each A).self))
            return try JSONValueEncoder().encode(result)
        }
    }
}

/// Hands out bound argument values one at a time, decoding each to the parameter's type.
/// Lives only inside one call, on one task, so it needs no synchronisation.
private final class ArgumentCursor {
    private let values: [JSONValue]
    private var index = 0

    init(values: [JSONValue]) { self.values = values }

    func next<T: Decodable>(_ type: T.Type) throws -> T {
        defer { index += 1 }
        return try JSONValueDecoder().decode(T.self, from: values[index])
    }
}
