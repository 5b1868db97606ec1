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
/// A typed registration decodes arguments into the function's `Decodable` parameter types and
/// encodes its `Encodable` result; a raw registration sees the JSON as it came.
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

    /// Registers a typed task. `parameters` names the function's parameters in order, so keyword
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
