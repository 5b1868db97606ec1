/// Tuning for ``RedisConnection``, ``RedisClient`` and ``RedisSubscriber``.
public struct RedisOptions: Sendable {
    /// How long to wait for the TCP/unix connect and for the AUTH/SELECT handshake.
    public var connectTimeout: Duration = .seconds(5)
    /// Socket read timeout for replies; `nil` blocks forever.
    ///
    /// hiredis drops the connection when this fires, so it must exceed the timeout of any
    /// blocking command (BRPOP, BLMOVE) sent on the connection. Connections used for blocking
    /// pops normally leave it `nil`.
    public var readTimeout: Duration? = nil
    /// The first and the largest delay between reconnect attempts; delays double in between.
    public var reconnectBackoff: ClosedRange<Duration> = .milliseconds(50)...(.seconds(5))
    /// How long requests queued during an outage wait for a reconnect before failing with
    /// ``RedisError/Code/connectionLost``; `nil` waits forever.
    public var maxOutageWait: Duration? = nil
    /// How long a ``RedisSubscriber``'s loop sleeps when nothing arrives and nobody wakes it;
    /// this also bounds how long a deferred subscription change waits to be written (see
    /// ``RedisSubscriber/subscribe(_:deferred:whenConfirmed:)``).
    public var subscriberIdleWake: Duration = .milliseconds(100)
    /// A short name for log lines, e.g. `"broker"` or `"results"`.
    public var name: String = "redis"
    /// Where this connection reports an outage: `nil` logs its own warning and reconnect line;
    /// connections sharing one ``RedisOutageLog`` report an outage once between them.
    public var outageLog: RedisOutageLog? = nil

    /// Creates the default options.
    public init() {}
}
