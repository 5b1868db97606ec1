/// The `type` of a Celery event, with the eleven types Celery itself sends spelled out.
///
/// Types Celery does not define (custom `send_event` calls, future versions) are kept as
/// ``other(_:)`` rather than rejected, because a monitor must not drop events it does not
/// understand; they still carry every field in ``CeleryEvent/fields``.
public enum CeleryEventKind: Sendable, Hashable, CustomStringConvertible {
    case taskSent
    case taskReceived
    case taskStarted
    case taskSucceeded
    case taskFailed
    case taskRetried
    case taskRevoked
    case taskRejected
    case workerOnline
    case workerHeartbeat
    case workerOffline
    /// Any other type string, verbatim.
    case other(String)

    /// Maps a wire `type` string (`"task-sent"`) to its kind; unknown strings become ``other(_:)``.
    public init(type: String) {
        switch type {
        case "task-sent": self = .taskSent
        case "task-received": self = .taskReceived
        case "task-started": self = .taskStarted
        case "task-succeeded": self = .taskSucceeded
        case "task-failed": self = .taskFailed
        case "task-retried": self = .taskRetried
        case "task-revoked": self = .taskRevoked
        case "task-rejected": self = .taskRejected
        case "worker-online": self = .workerOnline
        case "worker-heartbeat": self = .workerHeartbeat
        case "worker-offline": self = .workerOffline
        default: self = .other(type)
        }
    }

    /// The wire `type` string, e.g. `"task-succeeded"`.
    public var type: String {
        switch self {
        case .taskSent: "task-sent"
        case .taskReceived: "task-received"
        case .taskStarted: "task-started"
        case .taskSucceeded: "task-succeeded"
        case .taskFailed: "task-failed"
        case .taskRetried: "task-retried"
        case .taskRevoked: "task-revoked"
        case .taskRejected: "task-rejected"
        case .workerOnline: "worker-online"
        case .workerHeartbeat: "worker-heartbeat"
        case .workerOffline: "worker-offline"
        case .other(let t): t
        }
    }

    /// Celery's event group: the part of the type before the first `-` (`"task"`, `"worker"`).
    ///
    /// Workers buffer the `task` group and publish it as `task.multi` batches; other groups go
    /// out one event per message.
    public var group: String {
        let t = type
        guard let dash = t.firstIndex(of: "-") else { return t }
        return String(t[..<dash])
    }

    /// The routing key a single event of this kind is published with: the type with `-`
    /// replaced by `.` (`task.sent`, `worker.heartbeat`), as `EventDispatcher.publish` does.
    public var routingKey: String {
        String(type.map { $0 == "-" ? "." : $0 })
    }

    /// Whether the event describes a task (group `task`), so carries a `uuid`.
    public var isTaskEvent: Bool {
        // Same answer as `group == "task"`, without building the group string: this is asked
        // for every event a monitor decodes.
        switch self {
        case .taskSent, .taskReceived, .taskStarted, .taskSucceeded, .taskFailed, .taskRetried, .taskRevoked,
            .taskRejected:
            true
        case .workerOnline, .workerHeartbeat, .workerOffline: false
        case .other(let t): t == "task" || t.hasPrefix("task-")
        }
    }

    /// Whether the event describes a worker's life (group `worker`).
    public var isWorkerEvent: Bool {
        switch self {
        case .workerOnline, .workerHeartbeat, .workerOffline: true
        case .taskSent, .taskReceived, .taskStarted, .taskSucceeded, .taskFailed, .taskRetried, .taskRevoked,
            .taskRejected:
            false
        case .other(let t): t == "worker" || t.hasPrefix("worker-")
        }
    }

    /// Whether Celery defines this type (everything but ``other(_:)``).
    public var isKnown: Bool { if case .other = self { false } else { true } }

    public var description: String { type }
}
