import Celeriac

/// Whether polling currently fails, so an outage produces one notice, not one per second.
struct PollHealth {
    private var failing = false

    /// After a failed poll: the notice to show, if this starts an outage.
    mutating func failed(_ error: any Error) -> String? {
        guard !failing else { return nil }
        failing = true
        let reason = (error as? RedisError)?.message ?? "\(error)"
        return "Redis unreachable (\(reason)); reconnecting"
    }

    /// After a successful poll: the notice to show, if this ends an outage.
    mutating func succeeded() -> String? {
        guard failing else { return nil }
        failing = false
        return "Redis reachable again"
    }
}
