/// The positional and keyword arguments of one task call, as they came off the wire.
///
/// Celery calls `add(2, 3)` and `add(x=2, y=3)` the same task; a Swift task declares its parameter
/// names once at registration so both forms reach it, just as Python binds them.
public struct TaskArguments: Sendable, Hashable {
    public var args: [JSONValue]
    public var kwargs: JSONObject

    public init(args: [JSONValue] = [], kwargs: JSONObject = [:]) {
        self.args = args
        self.kwargs = kwargs
    }

    /// Binds arguments to parameter names the way Python does: positional first, then by name;
    /// too many, missing, duplicated or unknown arguments are a `TypeError`, as in Python.
    /// Every parameter is required (the untyped path of ``TaskRegistry/register(_:parameters:options:_:)``).
    /// - Returns: one value per parameter, in declaration order.
    public func bind(to parameters: [String], taskName: String) throws(TaskError) -> [JSONValue] {
        try slots(for: TaskParameters(parameters), taskName: taskName).map { $0! }
    }

    /// Binds arguments to a typed task's parameter list by Python's rules, as
    /// ``bind(to:taskName:)`` does, except that a parameter with a default may be left out.
    /// - Returns: the bound values by parameter name, in declaration order, without the ones
    ///   left out: the object the task's `Arguments` type is decoded from.
    public func bind(to parameters: TaskParameters, taskName: String) throws(TaskError) -> JSONObject {
        let bound = try slots(for: parameters, taskName: taskName)
        var object = JSONObject()
        object.reserveCapacity(bound.count)
        for (name, value) in zip(parameters.names, bound) {
            if let value { object.append(name, value) }
        }
        return object
    }

    /// One slot per parameter; `nil` only for a parameter with a default that was not given.
    private func slots(for parameters: TaskParameters, taskName: String) throws(TaskError) -> [JSONValue?] {
        let names = parameters.names
        guard args.count <= names.count else {
            throw .typeError("\(taskName)() takes \(Self.positionalCount(parameters)) positional arguments but \(args.count) were given")
        }
        var bound: [JSONValue?] = args.map { $0 } + Array(repeating: nil, count: names.count - args.count)
        for member in kwargs {
            guard let index = names.firstIndex(of: member.key) else {
                throw .typeError("\(taskName)() got an unexpected keyword argument '\(member.key)'")
            }
            guard bound[index] == nil else {
                throw .typeError("\(taskName)() got multiple values for argument '\(member.key)'")
            }
            bound[index] = member.value
        }
        let missing = zip(names, bound).filter { $0.1 == nil && !parameters.withDefaults.contains($0.0) }.map { "'\($0.0)'" }
        guard missing.isEmpty else {
            throw .typeError("\(taskName)() missing \(missing.count) required argument\(missing.count == 1 ? "" : "s"): \(missing.joined(separator: " and "))")
        }
        return bound
    }

    /// "2", or Python's "from 1 to 2" when some parameters have defaults.
    private static func positionalCount(_ parameters: TaskParameters) -> String {
        let required = parameters.names.count - parameters.names.filter(parameters.withDefaults.contains).count
        return required == parameters.names.count ? "\(required)" : "from \(required) to \(parameters.names.count)"
    }
}

extension TaskArguments {
    /// The call Python's `task.delay(a, b, …)` makes with a typed task's `Arguments`: each
    /// property in parameter order as a positional argument, as long as none is left out; after
    /// the first `nil` optional, the rest go by keyword (`task.delay(a, c=3)`). Properties the
    /// list does not name go by keyword too, so the receiving task reports them as Python would.
    /// A ``TaskArguments`` value (a task taking `*args, **kwargs`) is sent as it is.
    ///
    /// - Parameters:
    ///   - arguments: The task's arguments.
    ///   - parameters: Its parameter list (``TaskParameters/init(of:)``).
    /// - Throws: `EncodingError` when `arguments` fails to encode or is not an object of named values.
    public init<Arguments: Encodable>(encoding arguments: Arguments, parameters: TaskParameters) throws {
        if let raw = arguments as? TaskArguments {
            self = raw
            return
        }
        guard case .object(let object) = try JSONValueEncoder().encode(arguments) else {
            throw EncodingError.invalidValue(
                arguments, EncodingError.Context(codingPath: [], debugDescription: "task arguments must encode as an object of named values"))
        }
        var args: [JSONValue] = []
        var kwargs = JSONObject()
        var positional = true
        for name in parameters.names {
            guard let value = object[name] else {
                positional = false
                continue
            }
            if positional { args.append(value) } else { kwargs.append(name, value) }
        }
        for member in object where !parameters.names.contains(member.key) { kwargs.append(member.key, member.value) }
        self.init(args: args, kwargs: kwargs)
    }
}

/// Lets ``TaskArguments`` be a typed task's `Arguments`: such a task takes Python's
/// `*args, **kwargs` and gets the call as it came (its parameter list is empty, and binding is
/// skipped). Standalone, it codes as `{"args": […], "kwargs": {…}}`.
extension TaskArguments: Codable {
    private enum CodingKeys: String, CodingKey {
        case args, kwargs
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        args = try container.decodeIfPresent([JSONValue].self, forKey: .args) ?? []
        kwargs = try container.decodeIfPresent(JSONValue.self, forKey: .kwargs)?.objectValue ?? [:]
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(args, forKey: .args)
        try container.encode(JSONValue.object(kwargs), forKey: .kwargs)
    }
}
