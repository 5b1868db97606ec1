public import Logging
import Synchronization

/// Reports an outage once for all the connections a process holds to one Redis.
///
/// A worker talks to Redis over several connections (consumer, broker, pub/sub, events); on
/// their own, each logs its loss and its reconnect, so one outage reads as a burst of warnings.
/// Connections whose ``RedisOptions/outageLog`` is the same instance report here instead: the
/// first one that cannot reconnect logs the one warning, the last one back logs the one line
/// saying Redis is reachable again. A connection the server closed that reconnects at the first
/// attempt (a stale idle connection, e.g. after an outage another connection already reported)
/// is no outage and logs at debug level only.
public final class RedisOutageLog: Sendable {
    private struct Outage {
        var since: ContinuousClock.Instant
        var down: Set<String>
    }

    private let logger: Logger
    /// Open outages by server (URL description, password redacted).
    private let outages = Mutex<[String: Outage]>([:])

    public init(logger: Logger) {
        self.logger = logger
    }

    /// `connection` (its ``RedisOptions/name``) failed to reconnect to `url`.
    func lost(connection: String, url: RedisURL, reason: String) {
        let server = "\(url)"
        let first = outages.withLock { outages -> Bool in
            if outages[server] == nil {
                outages[server] = Outage(since: .now, down: [connection])
                return true
            }
            outages[server]?.down.insert(connection)
            return false
        }
        if first {
            logger.warning("redis at \(server) unreachable: \(reason); reconnecting")
        } else {
            logger.debug("redis \(connection) at \(server) unreachable too")
        }
    }

    /// `connection`, reported by ``lost(connection:url:reason:)``, is connected again.
    func reconnected(connection: String, url: RedisURL) {
        let server = "\(url)"
        let elapsed = outages.withLock { outages -> Duration? in
            guard var outage = outages[server] else { return nil }
            outage.down.remove(connection)
            guard outage.down.isEmpty else {
                outages[server] = outage
                return nil
            }
            outages[server] = nil
            return ContinuousClock.now - outage.since
        }
        if let elapsed {
            logger.info("redis at \(server) reachable again after \(String(format: "%.1f", elapsed.seconds)) s")
        }
    }

    /// `connection` replaced a connection the server had closed, at the first attempt.
    func replaced(connection: String, url: RedisURL, reason: String) {
        logger.debug("redis \(connection) at \(url) reconnected at once (\(reason))")
    }
}

/// One connection's outage, reported either on its own (as ``RedisClient`` and
/// ``RedisSubscriber`` always did: a warning now, an info line when back) or through a shared
/// ``RedisOutageLog`` (a warning only once the first reconnect attempt failed).
struct RedisConnectionOutage {
    private let name: String
    private let url: RedisURL
    private let logger: Logger
    private let shared: RedisOutageLog?
    private let reason: String
    private var reported = false

    /// Starts the outage; on its own, logs the warning at once.
    init(options: RedisOptions, url: RedisURL, logger: Logger, reason: String) {
        name = options.name
        self.url = url
        self.logger = logger
        shared = options.outageLog
        self.reason = reason
        if shared == nil {
            logger.warning("redis \(name) at \(url) unreachable: \(reason); reconnecting")
            reported = true
        }
    }

    /// A reconnect attempt failed.
    mutating func attemptFailed() {
        guard !reported, let shared else { return }
        reported = true
        shared.lost(connection: name, url: url, reason: reason)
    }

    /// Connected again after `elapsed`.
    func ended(after elapsed: Duration) {
        guard let shared else {
            logger.info("redis \(name) reconnected after \(String(format: "%.1f", elapsed.seconds)) s")
            return
        }
        if reported {
            shared.reconnected(connection: name, url: url)
        } else {
            shared.replaced(connection: name, url: url, reason: reason)
        }
    }
}
