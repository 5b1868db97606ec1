public import Foundation
import Synchronization

/// A program a test starts (a `qworker`, a Python Celery worker or client), with its output
/// captured to a file so a test can read it while it runs and show it when something fails.
public final class ChildProcess: Sendable {
    public let name: String
    public let logPath: String
    private let process: Process

    /// Starts `executable` with `arguments`; `environment` adds to (and overrides) the test's own.
    public init(_ name: String, executable: String, arguments: [String], environment: [String: String] = [:],
                workingDirectory: URL? = nil, logDirectory: TemporaryDirectory) throws {
        self.name = name
        logPath = logDirectory.file("\(name).log")
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        if let workingDirectory { p.currentDirectoryURL = workingDirectory }
        p.standardOutput = log
        p.standardError = log
        p.standardInput = FileHandle.nullDevice
        try p.run()
        process = p
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    /// Everything the program printed so far (stdout and stderr interleaved).
    public var output: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Sends `signal` (SIGTERM by default).
    public func signal(_ signal: Int32 = SIGTERM) { if process.isRunning { kill(process.processIdentifier, signal) } }

    /// Waits for the program to exit, killing it after `timeout`; returns its exit status.
    @discardableResult
    public func wait(timeout: Duration = .seconds(20)) async -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        return process.terminationStatus
    }

    /// Stops the program: SIGTERM, then SIGKILL after `grace`.
    public func stop(grace: Duration = .seconds(10)) async {
        signal(SIGTERM)
        await wait(timeout: grace)
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
