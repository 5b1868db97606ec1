/// What an operator can do from `qmon` (keyboard or command line). Each is confirmed first,
/// reports its outcome and is written to the action log.
public enum MonitorAction: Sendable, Hashable {
    /// Revoke tasks; with `terminate`, also end them where they run (signal name, e.g. `SIGTERM`).
    case revoke(taskIDs: [String], terminate: Bool, signal: String)
    /// Re-send a failed task as a new task linked to the old one.
    case retry(taskID: String)
    /// Set a task type's rate limit on every worker (`"10/m"`, `"0"` to remove).
    case rateLimit(taskName: String, rate: String)
    case poolGrow(worker: String, n: Int)
    case poolShrink(worker: String, n: Int)
    /// Warm-shut a worker down.
    case shutdown(worker: String)
    /// Delete every message waiting in a queue (all its priority lists).
    case purge(queue: String)

    /// One line describing the action, for the confirmation prompt and the log.
    public var summary: String {
        switch self {
        case .revoke(let ids, let terminate, let signal):
            let what = ids.count == 1 ? "task \(ids[0])" : "\(ids.count) tasks"
            return terminate ? "terminate \(what) (\(signal))" : "revoke \(what)"
        case .retry(let id): return "retry task \(id)"
        case .rateLimit(let name, let rate): return "set rate limit of \(name) to \(rate)"
        case .poolGrow(let worker, let n): return "grow the pool of \(worker) by \(n)"
        case .poolShrink(let worker, let n): return "shrink the pool of \(worker) by \(n)"
        case .shutdown(let worker): return "shut down \(worker)"
        case .purge(let queue): return "purge queue \(queue)"
        }
    }
}

/// How an action went.
public struct ActionOutcome: Sendable, Hashable {
    public let action: MonitorAction
    public let succeeded: Bool
    /// One line for the operator: the workers' replies, or why it failed.
    public let message: String
    /// For a retry, the id of the new task.
    public let newTaskID: String?

    public init(action: MonitorAction, succeeded: Bool, message: String, newTaskID: String? = nil) {
        self.action = action
        self.succeeded = succeeded
        self.message = message
        self.newTaskID = newTaskID
    }
}

/// Carries out actions: over Redis for real, recorded in tests.
public protocol ActionPerformer: Sendable {
    func perform(_ action: MonitorAction) async -> ActionOutcome
}
