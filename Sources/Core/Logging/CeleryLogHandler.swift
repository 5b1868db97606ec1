public import Logging
import Foundation

/// Writes one line per log event to standard error in Celery's worker format,
/// `[2026-11-25 03:12:01,123: INFO/MainProcess] message key=value`, so operators who read
/// Celery logs read ours without a second thought. Credentials in a line are masked
/// (``CredentialRedactor``).
public struct CeleryLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let process: String

    public init(label: String, level: Logger.Level = .info, process: String = "MainProcess") {
        logLevel = level
        self.process = process
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var bytes = Array(line(for: event).utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = write(2, buffer.baseAddress! + offset, buffer.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
    }

    /// The line ``log(event:)`` writes for `event`, newline included.
    ///
    /// A log line may quote a URL or a value the user gave (a node name, a task's result, an
    /// error's message), so credentials in it are masked by ``CredentialRedactor``.
    public func line(for event: LogEvent) -> String {
        var line = "[\(Self.timestamp()): \(Self.name(event.level))/\(process)] \(event.message)"
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) { line += " \(key)=\(value)" }
        return CredentialRedactor.redact(line) + "\n"
    }

    private static func name(_ level: Logger.Level) -> String {
        switch level {
        case .trace, .debug: "DEBUG"
        case .info, .notice: "INFO"
        case .warning: "WARNING"
        case .error: "ERROR"
        case .critical: "CRITICAL"
        }
    }

    private static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var t = now.tv_sec
        var parts = tm()
        localtime_r(&t, &parts)
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d,%03d", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec, Int(now.tv_nsec / 1_000_000))
    }

    /// Parses Celery's `--loglevel` names (DEBUG, INFO, WARNING, ERROR, CRITICAL, any case).
    public static func level(named name: String) -> Logger.Level? {
        switch name.uppercased() {
        case "TRACE": .trace
        case "DEBUG": .debug
        case "INFO": .info
        case "WARNING", "WARN": .warning
        case "ERROR": .error
        case "CRITICAL", "FATAL": .critical
        default: nil
        }
    }
}
