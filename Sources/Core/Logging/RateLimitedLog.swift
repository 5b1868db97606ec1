public import Logging
import Synchronization

/// Logs a recurring problem once per kind, then at most once per ``interval`` with a count of
/// what was suppressed in between.
///
/// Pub/sub receivers see whatever anyone PUBLISHes: one misbehaving publisher can send thousands
/// of malformed messages a second, and a warning per message would drown the log (and cost more
/// than decoding). Each kind (e.g. a ``ProtocolError/Code``) gets its own budget, so a new kind
/// of problem is still reported at once.
public final class RateLimitedLog: Sendable {
    private struct Entry {
        var lastLogged: ContinuousClock.Instant
        var suppressed: Int
    }

    private let logger: Logger
    private let level: Logger.Level
    /// The minimum time between two lines of the same kind.
    public let interval: Duration
    private let entries = Mutex<[String: Entry]>([:])

    public init(logger: Logger, level: Logger.Level = .warning, interval: Duration = .seconds(60)) {
        self.logger = logger
        self.level = level
        self.interval = interval
    }

    /// Logs `message` unless a line of the same `kind` was logged within ``interval``; the
    /// message is only built when it is logged.
    public func log(kind: String, _ message: @autoclosure () -> String) {
        let now = ContinuousClock.now
        let suppressed = entries.withLock { entries -> Int? in
            guard var entry = entries[kind] else {
                entries[kind] = Entry(lastLogged: now, suppressed: 0)
                return 0
            }
            guard now - entry.lastLogged >= interval else {
                entry.suppressed += 1
                entries[kind] = entry
                return nil
            }
            defer { entries[kind] = Entry(lastLogged: now, suppressed: 0) }
            return entry.suppressed
        }
        guard let suppressed else { return }
        let note = suppressed > 0 ? " (\(suppressed) more like it since the last report)" : ""
        logger.log(level: level, "\(message())\(note)")
    }
}
