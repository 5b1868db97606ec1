import Foundation
import Logging

/// Collects log lines so tests can check what an outage logs (and that no password leaks).
///
/// `@unchecked Sendable` is sound: `lines` is only accessed under `lock`.
final class LogRecorder: @unchecked Sendable {
    struct Line: Sendable {
        let level: Logger.Level
        let message: String
    }

    private let lock = NSLock()
    private var storage: [Line] = []

    var lines: [Line] {
        lock.lock()
        defer { lock.unlock() }
        return storage
    }

    func messages(at level: Logger.Level) -> [String] {
        lines.filter { $0.level == level }.map(\.message)
    }

    fileprivate func append(_ line: Line) {
        lock.lock()
        storage.append(line)
        lock.unlock()
    }

    func logger(_ label: String = "test") -> Logger {
        var logger = Logger(label: label) { _ in Handler(recorder: self) }
        logger.logLevel = .trace
        return logger
    }

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
