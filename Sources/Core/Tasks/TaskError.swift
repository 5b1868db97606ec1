/// An error a task raises, carrying the Python exception Celery clients will see.
///
/// The result backend stores failures as `{"exc_type", "exc_message", "exc_module"}` and a Python
/// client rebuilds `exc_module.exc_type(*exc_message)`; raising `TaskError.valueError("boom")`
/// from Swift therefore makes `AsyncResult.get()` raise `ValueError('boom')` in Python. Any other
/// Swift error is reported with its Swift type name and module `celeriac`.
public struct TaskError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The exception class name (`ValueError`, `TypeError`, `NotRegistered`, …).
    public var type: String
    /// The exception's `args`.
    public var arguments: [JSONValue]
    /// The module Python imports the class from (`builtins`, `celery.exceptions`, …).
    public var module: String

    public init(type: String, arguments: [JSONValue], module: String = "builtins") {
        self.type = type
        self.arguments = arguments
        self.module = module
    }

    public static func valueError(_ message: String) -> TaskError { .init(type: "ValueError", arguments: [.string(message)]) }
    public static func typeError(_ message: String) -> TaskError { .init(type: "TypeError", arguments: [.string(message)]) }
    public static func runtimeError(_ message: String) -> TaskError { .init(type: "RuntimeError", arguments: [.string(message)]) }
    public static func notRegistered(_ name: String) -> TaskError {
        .init(type: "NotRegistered", arguments: [.string(name)], module: "celery.exceptions")
    }

    /// The exception info stored in results and shown in events.
    public var exceptionInfo: ExceptionInfo { ExceptionInfo(type: type, message: arguments, module: module) }

    /// The first argument as text, which is what Python prints as the exception's message.
    public var message: String {
        guard let first = arguments.first else { return "" }
        return first.stringValue ?? PythonRepr.repr(first)
    }

    public var description: String { exceptionInfo.summary }

    /// Describes any error a task threw as a Celery exception.
    public static func from(_ error: any Error) -> TaskError {
        if let e = error as? TaskError { return e }
        if let d = error as? DecodingError { return .typeError("bad argument: \(Self.describe(d))") }
        return TaskError(type: String(describing: Swift.type(of: error)), arguments: [.string(String(describing: error))], module: "celeriac")
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ ctx: DecodingError.Context) -> String {
            ctx.codingPath.isEmpty ? "" : " at " + ctx.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .typeMismatch(let t, let ctx): return "expected \(t)\(path(ctx)): \(ctx.debugDescription)"
        case .valueNotFound(let t, let ctx): return "missing \(t)\(path(ctx))"
        case .keyNotFound(let k, let ctx): return "missing key '\(k.stringValue)'\(path(ctx))"
        case .dataCorrupted(let ctx): return "\(ctx.debugDescription)\(path(ctx))"
        @unknown default: return String(describing: error)
        }
    }
}
