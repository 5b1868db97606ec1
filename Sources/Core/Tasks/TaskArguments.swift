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
    /// - Returns: one value per parameter, in declaration order.
    public func bind(to parameters: [String], taskName: String) throws(TaskError) -> [JSONValue] {
        guard args.count <= parameters.count else {
            throw .typeError("\(taskName)() takes \(parameters.count) positional arguments but \(args.count) were given")
        }
        var bound: [JSONValue?] = args.map { $0 } + Array(repeating: nil, count: parameters.count - args.count)
        for member in kwargs {
            guard let index = parameters.firstIndex(of: member.key) else {
                throw .typeError("\(taskName)() got an unexpected keyword argument '\(member.key)'")
            }
            guard bound[index] == nil else {
                throw .typeError("\(taskName)() got multiple values for argument '\(member.key)'")
            }
            bound[index] = member.value
        }
        let missing = zip(parameters, bound).filter { $0.1 == nil }.map { "'\($0.0)'" }
        guard missing.isEmpty else {
            throw .typeError("\(taskName)() missing \(missing.count) required argument\(missing.count == 1 ? "" : "s"): \(missing.joined(separator: " and "))")
        }
        return bound.map { $0! }
    }
}
