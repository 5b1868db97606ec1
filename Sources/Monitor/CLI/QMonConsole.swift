public import ArgumentParser
public import Celeriac
import Foundation
public import Logging

/// Output and failure reporting shared by the headless commands: one line per problem on
/// stderr, and the exit codes scripts rely on.
///
/// | code | meaning |
/// |---|---|
/// | 0 | done |
/// | 1 | usage or configuration error (bad flag, config file, URL) |
/// | 2 | Redis cannot be reached, or refused the password |
/// | 3 | nothing matched: no worker replied, no worker online, nothing to retry |
public enum QMonConsole {
    /// Exit code 1.
    public static let usageError = ExitCode(1)
    /// Exit code 2.
    public static let unreachable = ExitCode(2)
    /// Exit code 3.
    public static let nothingMatched = ExitCode(3)

    /// Writes `text` and a newline to stdout, unbuffered (so a pipe sees each line at once).
    public static func out(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    /// Writes `qmon: <text>` and a newline to stderr, credentials masked
    /// (``Celeriac/CredentialRedactor``): the text may quote a URL or a config line.
    public static func error(_ text: String) {
        FileHandle.standardError.write(Data(("qmon: " + CredentialRedactor.redact(text) + "\n").utf8))
    }

    /// A logger that writes warnings and worse to stderr in Celery's format, without
    /// bootstrapping the global logging system (the dashboard needs its own).
    public static func logger(level: Logger.Level = .warning) -> Logger {
        Logger(label: "qmon") { label in CeleryLogHandler(label: label, level: level, process: "qmon") }
    }

    /// Reports `error` in one line and returns the exit code for it: 1 for configuration and
    /// URL errors, 2 for Redis connection and authentication failures.
    ///
    /// - Parameters:
    ///   - error: What went wrong while resolving settings or connecting.
    ///   - config: The settings, to name the Redis (password redacted) in the line.
    public static func fail(_ error: any Error, config: CeleriacConfig? = nil) -> ExitCode {
        switch error {
        case let e as ConfigError:
            self.error(e.message)
            return usageError
        case let e as RedisError where e.code == .invalidURL:
            self.error(e.message)
            return usageError
        case let e as RedisError:
            // Name the (redacted) URL unless the client's message already does.
            let named = e.message.contains("redis://") || e.message.contains("unix://")
            let place = named ? "" : config.flatMap { try? RedisURL(parsing: $0.brokerURL) }.map { " at \($0)" } ?? ""
            if e.code == .authenticationFailed {
                self.error("Redis\(place) refused the credentials: \(e.message)")
            } else {
                self.error("cannot reach Redis\(place): \(e.message)")
            }
            return unreachable
        default:
            self.error("\(error)")
            return usageError
        }
    }
}
