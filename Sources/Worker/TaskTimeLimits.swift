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

    /// The limits in force for a message: the `time_limit` command's override, else the
    /// message's `timelimit` header, else the worker's `--time-limit`/`--soft-time-limit`;
    /// only limits a worker can wait for (``TimeLimit/enforceable``), whatever a client sent.
    func limits(for name: String, message: TimeLimit, defaults: TimeLimit) -> TimeLimit {
        let override = limits.withLock { $0[name] }
        return TimeLimit(hard: override?.hard ?? message.hard ?? defaults.hard,
                         soft: override?.soft ?? message.soft ?? defaults.soft).enforceable
    }
}
