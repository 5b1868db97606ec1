public import Foundation

/// Hooks into a task's life, as Celery's signals: `before_task_publish`/`after_task_publish`
/// on the sending side, `worker_ready`/`worker_shutdown`, `task_prerun`, then one of
/// `task_success`/`task_failure`/`task_retry`/`task_revoked`, then `task_postrun` in the worker.
///
/// Every method has a no-op default, so a middleware implements only what it needs. Hand
/// middleware to ``CeleriacClient/connect(config:options:logger:middleware:)`` and to the worker
/// (`WorkerCommand.run(tasks:middleware:)`); they are called in the order given.
///
/// As Celery's signal receivers, hooks run inline, on the path of the task they observe: keep
/// them quick, and start a `Task` for slow work (a network call) rather than hold up the worker.
///
/// ```swift
/// final class Timing: TaskMiddleware {
///     let started = Mutex<[String: ContinuousClock.Instant]>([:])
///     func taskPrerun(_ task: TaskContext) { started.withLock { $0[task.id] = .now } }
///     func taskPostrun(_ task: TaskContext, state: TaskState) {
///         guard let start = started.withLock({ $0.removeValue(forKey: task.id) }) else { return }
///         task.logger.info("\(task.name) took \(start.duration(to: .now)) and ended \(state.rawValue)")
///     }
/// }
/// ```
public protocol TaskMiddleware: Sendable {
    /// `before_task_publish`: the message about to be sent; a hook may change it (headers,
    /// queue, ETA). Called for tasks a client sends and for the retries a worker publishes.
    func beforePublish(_ message: inout TaskMessage)
    /// `after_task_publish`: the message went out to Redis.
    func afterPublish(_ message: TaskMessage)
    /// `worker_ready`: the worker consumes and answers control commands.
    func workerReady(node: String)
    /// `worker_shutdown`: the worker stopped; running tasks finished, held messages went back.
    func workerShutdown(node: String)
    /// `task_prerun`: the body is about to run.
    func taskPrerun(_ task: TaskContext)
    /// `task_success`: the body returned `result`.
    func taskSuccess(_ task: TaskContext, result: JSONValue)
    /// `task_failure`: the body failed (threw, hit its hard or soft time limit, lost its pool
    /// process); `error` is what is stored as the FAILURE.
    func taskFailure(_ task: TaskContext, error: TaskError, traceback: String)
    /// `task_retry`: the body asked to run again at `eta` (``TaskContext/retry(countdown:eta:maxRetries:error:)``
    /// or `autoretry_for`); the retry's message is already published.
    func taskRetry(_ task: TaskContext, reason: TaskError, eta: Date)
    /// `task_revoked`: the task was revoked (`terminated` while it ran, with `signal`), or
    /// `expired` before it started, or revoked before it started.
    func taskRevoked(_ task: TaskContext, terminated: Bool, signal: Int?, expired: Bool)
    /// `task_postrun`: after the outcome hook of a body that ran, with the state it ended in
    /// (not called when the body was interrupted and its message went back to the queue).
    func taskPostrun(_ task: TaskContext, state: TaskState)
}

extension TaskMiddleware {
    public func beforePublish(_ message: inout TaskMessage) {}
    public func afterPublish(_ message: TaskMessage) {}
    public func workerReady(node: String) {}
    public func workerShutdown(node: String) {}
    public func taskPrerun(_ task: TaskContext) {}
    public func taskSuccess(_ task: TaskContext, result: JSONValue) {}
    public func taskFailure(_ task: TaskContext, error: TaskError, traceback: String) {}
    public func taskRetry(_ task: TaskContext, reason: TaskError, eta: Date) {}
    public func taskRevoked(_ task: TaskContext, terminated: Bool, signal: Int?, expired: Bool) {}
    public func taskPostrun(_ task: TaskContext, state: TaskState) {}
}
