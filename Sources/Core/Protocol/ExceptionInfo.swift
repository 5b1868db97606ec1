/// An exception as Celery serializes it into results:
/// `{"exc_type": "ValueError", "exc_message": ["boom"], "exc_module": "builtins"}`.
///
/// `exc_message` is the exception's `args` tuple as a list; Python clients rebuild the
/// exception as `exc_module.exc_type(*exc_message)`, so keep the args, not a formatted text.
public struct ExceptionInfo: Sendable, Hashable {
    /// Class name, e.g. `ValueError`, `TaskRevokedError`.
    public var type: String
    /// The exception's `args`.
    public var message: [JSONValue]
    /// Module of the class, `builtins` for built-in exceptions, `celery.exceptions` for Celery's.
    public var module: String

    public init(type: String, message: [JSONValue], module: String = "builtins") {
        self.type = type
        self.message = message
        self.module = module
    }

    /// An exception with a single text argument, the common case.
    public init(type: String, message: String, module: String = "builtins") {
        self.init(type: type, message: [.string(message)], module: module)
    }

    /// `TaskRevokedError(reason)` as the worker writes it for revoked tasks.
    public static func revoked(_ reason: String) -> ExceptionInfo {
        ExceptionInfo(type: "TaskRevokedError", message: reason, module: "celery.exceptions")
    }

    /// The JSON dict in Celery's key order.
    public var jsonValue: JSONValue {
        .object(["exc_type": .string(type), "exc_message": .array(message), "exc_module": .string(module)])
    }

    /// Reads Celery's exception dict; `nil` if `json` is not one. A bare-string
    /// `exc_message` (older Celery) is taken as a one-element args list.
    public init?(json: JSONValue) {
        guard case .object(let o) = json, case .string(let type)? = o["exc_type"] else { return nil }
        self.type = type
        switch o["exc_message"] {
        case .array(let a)?: message = a
        case nil, .null?: message = []
        case let other?: message = [other]
        }
        module = o["exc_module"]?.stringValue ?? "builtins"
    }

    /// Python's `repr(exc)`: `ValueError('boom')`, `Reject('no thanks', False)`, `KeyError()`,
    /// as events show it in `exception`.
    public var summary: String {
        if message.count == 1 { return type + "(" + PythonRepr.repr(message[0]) + ")" }
        return type + PythonRepr.tupleRepr(message)
    }
}
