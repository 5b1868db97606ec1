/// A task state as stored in the result backend's `status` (`celery.states`).
public enum TaskState: String, Sendable, Hashable, CaseIterable {
    case pending = "PENDING"
    case received = "RECEIVED"
    case started = "STARTED"
    case success = "SUCCESS"
    case failure = "FAILURE"
    case retry = "RETRY"
    case revoked = "REVOKED"
    case rejected = "REJECTED"

    /// SUCCESS, FAILURE and REVOKED: the result will not change, clients stop waiting.
    public var isReady: Bool { self == .success || self == .failure || self == .revoked }

    /// States whose `result` is an exception dict (``ExceptionInfo``).
    public var carriesException: Bool { self == .failure || self == .retry || self == .revoked }

    /// Index in `celery.states.PRECEDENCE`
    /// (`SUCCESS, FAILURE, None, REVOKED, STARTED, RECEIVED, REJECTED, RETRY, PENDING`):
    /// a *lower* number wins when merging states seen out of order (e.g. in a monitor).
    public var precedence: Int { Self.precedence(of: rawValue) }

    /// Precedence for any status string; unknown (custom) states take the `None` slot, 2.
    public static func precedence(of status: String) -> Int {
        switch status {
        case "SUCCESS": 0
        case "FAILURE": 1
        case "REVOKED": 3
        case "STARTED": 4
        case "RECEIVED": 5
        case "REJECTED": 6
        case "RETRY": 7
        case "PENDING": 8
        default: 2
        }
    }
}
