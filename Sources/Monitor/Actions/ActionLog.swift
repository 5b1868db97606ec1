public import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An append-only file with one line per action qmon performed and its outcome, so an
/// operator can later tell who revoked, retried or purged what, and what the workers said.
///
/// A line is `<ISO-8601 UTC time> <ok|FAILED> <action summary>: <outcome message>`, plus
/// ` new=<id>` for a retry, e.g.
/// `2025-05-04T10:11:12.345Z ok terminate task 5f1c… (SIGTERM): w1@host: terminate: 5f1c…`.
/// Each line is written with one `write(2)` on a file opened with `O_APPEND`, so lines from
/// several qmon processes do not interleave.
public struct ActionLog: Sendable, Hashable {
    /// The file's path.
    public let path: String

    /// Uses the file at `path`; it and its directories are created on the first append.
    ///
    /// - Parameter path: The log file.
    public init(path: String) {
        self.path = path
    }

    /// `$XDG_STATE_HOME/celeriac/qmon-actions.log`, else `~/.local/state/celeriac/qmon-actions.log`
    /// (the XDG base directory rules for state data).
    ///
    /// - Parameter environment: The process environment.
    public static func defaultPath(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let base: String
        if let state = environment["XDG_STATE_HOME"], state.hasPrefix("/") {
            base = state
        } else {
            let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
            base = (home as NSString).appendingPathComponent(".local/state")
        }
        return (base as NSString).appendingPathComponent("celeriac/qmon-actions.log")
    }

    /// The line recorded for `outcome` at `date`, without the newline.
    ///
    /// - Parameters:
    ///   - outcome: What was done and how it went.
    ///   - date: When.
    public static func line(for outcome: ActionOutcome, at date: Date) -> String {
        var line = timestamp(date) + (outcome.succeeded ? " ok " : " FAILED ") + outcome.action.summary + ": "
            + outcome.message
        if let id = outcome.newTaskID { line += " new=\(id)" }
        return line.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    /// Appends the line for `outcome`.
    ///
    /// - Parameters:
    ///   - outcome: What was done and how it went.
    ///   - date: When; now by default.
    /// - Throws: ``ActionLogError`` when the directory or file cannot be created or written.
    public func append(_ outcome: ActionOutcome, at date: Date = Date()) throws(ActionLogError) {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw ActionLogError(path: path, reason: error.localizedDescription)
            }
        }
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ActionLogError(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        let bytes = Array((Self.line(for: outcome, at: date) + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else {
            throw ActionLogError(path: path, reason: written < 0 ? String(cString: strerror(errno)) : "short write")
        }
    }

    private static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
