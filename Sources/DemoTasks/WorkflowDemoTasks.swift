public import Celeriac

/// Errbacks of each of Celery's two styles, for workflows (`interop/demoapp.py` has the same).
extension DemoTasks {
    /// `demo.log_error(task_id)`: an old-style errback. One parameter, so the failing task's
    /// worker sends it as a task with the failed id.
    public enum LogError: CeleryTask {
        public static let name = "demo.log_error"
        public struct Arguments: Codable, Sendable, Hashable {
            public var task_id: String
            public init(task_id: String) { self.task_id = task_id }
        }
        public static func run(_ a: Arguments, context: TaskContext) async throws -> String {
            context.logger.warning("demo.log_error: task \(a.task_id) failed")
            return "errback for \(a.task_id)"
        }
    }

    /// `demo.on_error(request, exc, traceback)`: a new-style errback. The worker whose task
    /// failed calls it in-process, with no message and no result of its own.
    public enum OnError: CeleryTask {
        public static let name = "demo.on_error"
        public struct Arguments: Codable, Sendable, Hashable {
            public var request: JSONValue
            public var exc: JSONValue
            public var traceback: String?
            public init(request: JSONValue, exc: JSONValue, traceback: String?) {
                self.request = request
                self.exc = exc
                self.traceback = traceback
            }
        }
        public static func run(_ a: Arguments, context: TaskContext) async throws -> JSONValue {
            let summary = ExceptionInfo(json: a.exc)?.summary ?? PythonRepr.repr(a.exc)
            context.logger.warning("demo.on_error: task \(a.request["id"]?.stringValue ?? "?") raised \(summary)")
            return .null
        }
    }
}

extension DemoTasks {
    /// `demo.replaced_by_mul(x, y)`: replaces itself with `demo.mul(x, y)` (Celery's
    /// `self.replace`): the caller's result is the multiplication's, under this task's id.
    public enum ReplacedByMul: CeleryTask {
        public static let name = "demo.replaced_by_mul"
        public static func run(_ a: Operands, context: TaskContext) async throws -> JSONValue {
            throw context.replace(with: try Mul.s(a))
        }
    }
}
