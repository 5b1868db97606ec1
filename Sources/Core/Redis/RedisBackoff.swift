/// Capped exponential delays between reconnect attempts, from ``RedisOptions/reconnectBackoff``.
///
/// Starts at the lower bound and doubles up to the upper bound, so a brief restart is bridged
/// within tens of milliseconds while a long outage costs one attempt every few seconds.
public struct RedisBackoff: Sendable {
    private let range: ClosedRange<Duration>
    private var current: Duration

    public init(_ range: ClosedRange<Duration>) {
        self.range = range
        current = max(range.lowerBound, .milliseconds(1))
    }

    /// The delay before the next attempt; each call doubles the following one.
    public mutating func next() -> Duration {
        let delay = min(current, range.upperBound)
        current = min(current * 2, range.upperBound)
        return delay
    }
}

extension RedisBackoff {
    /// How long a step that must not be lost (a result, an ack, a restore) waits between tries
    /// while Redis is unreachable or refuses writes.
    package static let mustNotLose = RedisBackoff(.milliseconds(50)...(.seconds(2)))
}
