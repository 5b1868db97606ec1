import Logging
import Synchronization

/// Collects a worker's log lines, so a test waits for the line that proves a step happened
/// (a failed attempt logged, a retry scheduled) instead of sleeping.
///
/// The same as `CeleriacRedisTests`' recorder; the two can become one once test support is a
/// library every test target links.
final class LogRecorder: Sendable {
    private let storage = Mutex<[String]>([])

    var messages: [String] { storage.withLock { $0 } }

    func logger(_ label: String = "test") -> Logger {
        var logger = Logger(label: label) { _ in Handler(recorder: self) }
        logger.logLevel = .trace
        return logger
    }

    fileprivate func append(_ message: String) { storage.withLock { $0.append(message) } }

    private struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) { recorder.append("\(event.message)") }
    }
}
