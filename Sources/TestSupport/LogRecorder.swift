public import Logging
import Synchronization

/// Collects log lines, so a test waits for the line that proves a step happened (a failed
/// attempt logged, a retry scheduled) instead of sleeping, and checks what an outage logs (and
/// that no password leaks).
public final class LogRecorder: Sendable {
    public struct Line: Sendable {
        public let level: Logger.Level
        public let message: String
    }

    private let storage = Mutex<[Line]>([])

    public init() {}

    /// Every line so far, oldest first.
    public var lines: [Line] { storage.withLock { $0 } }

    /// Every message so far, whatever its level.
    public var messages: [String] { lines.map(\.message) }

    /// The messages logged at `level`.
    public func messages(at level: Logger.Level) -> [String] {
        lines.filter { $0.level == level }.map(\.message)
    }

    /// A logger at `.trace` that records here.
    public func logger(_ label: String = "test") -> Logger {
        var logger = Logger(label: label) { _ in Handler(recorder: self) }
        logger.logLevel = .trace
        return logger
    }

    fileprivate func append(_ line: Line) { storage.withLock { $0.append(line) } }

    private struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            recorder.append(Line(level: event.level, message: "\(event.message)"))
        }
    }
}
