public import Logging

/// What a running task may ask about its own call: id, name, retries, the worker it runs on.
///
/// Available as ``TaskContext/current`` inside a task body (a task-local value), so typed task
/// functions keep plain signatures like `(x: Int, y: Int) -> Int`.
public struct TaskContext: Sendable {
    public var id: String
    public var name: String
    public var retries: Int
    public var rootID: String?
    public var parentID: String?
    /// The worker's node name (`celery@host`).
    public var hostname: String
    public var logger: Logger
    /// The task's registered options (retries, backoff, acks).
    public var options: TaskOptions
    /// The call's arguments as Python reprs, for messages such as `MaxRetriesExceededError`.
    public var argsRepr: String
    public var kwargsRepr: String

    public init(id: String, name: String, retries: Int = 0, rootID: String? = nil, parentID: String? = nil,
                hostname: String, logger: Logger, options: TaskOptions = TaskOptions(), argsRepr: String = "()", kwargsRepr: String = "{}") {
        self.id = id
        self.name = name
        self.retries = retries
        self.rootID = rootID
        self.parentID = parentID
        self.hostname = hostname
        self.logger = logger
        self.options = options
        self.argsRepr = argsRepr
        self.kwargsRepr = kwargsRepr
    }

    /// The context of the task running in the current Swift task, if any.
    @TaskLocal public static var current: TaskContext?
}
