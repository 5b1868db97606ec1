/// What a ``RedisSubscriber`` delivers to its handler.
public enum RedisPubSubEvent: Sendable, Hashable {
    /// A message published to a channel subscribed with ``RedisSubscriber/subscribe(_:)``.
    case message(channel: String, payload: [UInt8])
    /// A message on a channel matching a pattern from ``RedisSubscriber/psubscribe(_:)``.
    case patternMessage(pattern: String, channel: String, payload: [UInt8])
    /// The connection was lost and re-established, and every subscription was replayed and
    /// confirmed. Messages published during the outage were missed: pub/sub has no backlog,
    /// so consumers that keep state from messages (worker heartbeats, task events) should
    /// resynchronise.
    case reconnected
}
