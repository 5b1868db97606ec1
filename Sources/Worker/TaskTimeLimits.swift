import Celeriac
import Synchronization

/// Time limits changed at run time by the `time_limit` control command, per task name; they
/// override the `timelimit` header a message carries.
final class TaskTimeLimits: Sendable {
    struct Limits: Sendable, Equatable {
        var hard: Double?
        var soft: Double?
    }

    private let limits = Mutex<[String: Limits]>([:])

    func set(_ name: String, hard: Double?, soft: Double?) {
        limits.withLock { $0[name] = Limits(hard: hard, soft: soft) }
    }

    /// The hard limit in force for a message: the command's override, else the message's own.
    func hardLimit(for name: String, message: TimeLimit) -> Double? {
        let override = limits.withLock { $0[name] }
        return override?.hard ?? message.hard
    }
}
