public import Celeriac

/// Demo tasks for workflows (`interop/demoapp.py` has the same): a chord body, and an errback of
/// each of Celery's two styles.
extension DemoTasks {
    /// Adds `demo.tsum`, `demo.log_error` and `demo.on_error`.
    public static func registerWorkflowTasks(into registry: inout TaskRegistry) {
        // A chord body: the header's results, in header order, summed.
        registry.register("demo.tsum", parameters: ["nums"]) { (nums: [Int]) -> Int in
            try nums.reduce(0) { total, n in try checked(total, n, { $0.addingReportingOverflow($1) }) }
        }
        // An old-style errback: one parameter, so Celery sends it as a task with the failed id.
        registry.register("demo.log_error", parameters: ["task_id"]) { (taskID: String) -> String in
            TaskContext.current?.logger.warning("demo.log_error: task \(taskID) failed")
            return "errback for \(taskID)"
        }
        // A new-style errback: (request, exc, traceback), so the worker whose task failed calls it
        // in-process, with no message and no result of its own.
        registry.register("demo.on_error", parameters: ["request", "exc", "traceback"]) { (request: JSONValue, exc: JSONValue, traceback: String) -> JSONValue in
            let summary = ExceptionInfo(json: exc)?.summary ?? PythonRepr.repr(exc)
            TaskContext.current?.logger.warning("demo.on_error: task \(request["id"]?.stringValue ?? "?") raised \(summary)")
            return .null
        }
    }
}
