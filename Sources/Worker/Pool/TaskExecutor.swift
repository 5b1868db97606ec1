import Celeriac
import Logging

/// Where task bodies run: the seam between the worker's message handling (ack, results,
/// events, retries) and the pool that runs the code.
///
/// ``InProcessExecutor`` runs bodies as Swift tasks in the worker process (`--pool async`);
/// ``ProcessPool`` runs them in child processes of the same binary (`--pool process`). Both
/// report how a body ended as a `TaskRun.Ending`, so the worker records the same outcomes.
protocol TaskExecutor: Sendable {
    /// Runs one task body to its end.
    ///
    /// - Parameters:
    ///   - context: the call as the task sees it (``TaskContext/current``).
    ///   - task: the registered task (the in-process pool calls its body; a child looks it up by name).
    ///   - args: positional arguments.
    ///   - kwargs: keyword arguments.
    ///   - limits: soft and hard time limits in force.
    ///   - started: called once the body is running, with the pid running it and a closure that
    ///     stops it (`revoke --terminate` passes the signal; 0 is a cold shutdown). Returning false
    ///     abandons the run.
    /// - Returns: how the body ended, or `nil` when `started` abandoned it.
    func run(context: TaskContext, task: RegisteredTask, args: [JSONValue], kwargs: JSONObject, limits: TimeLimit,
             started: @Sendable (_ pid: Int, _ stop: @escaping @Sendable (Int) -> Void) async -> Bool) async -> TaskRun.Ending?

    /// Starts what the pool needs before the first task (the process pool's children).
    func start() throws

    /// Sets how many tasks may run at once (`pool_grow`/`pool_shrink`).
    func resize(to concurrency: Int)

    /// Stops the pool after the last task finished; returns once it is down (bounded).
    func shutdown() async

    /// `inspect stats`' `pool` object, as Celery's pool reports it.
    func info(concurrency: Int, timeLimit: TimeLimit) -> JSONObject
}
