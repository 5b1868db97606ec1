public import Foundation
import Synchronization
import Glibc

/// A program a test starts (a `qworker`, a Python Celery worker or client), with its output
/// captured to a file so a test can read it while it runs and show it when something fails.
///
/// Foundation starts each child as the leader of its own process group, so signalling the group
/// reaches everything it started (a Celery worker's pool children too); every group still
/// running when the test process exits is killed by an `atexit` handler, so a failed test leaves
/// no worker behind.
public final class ChildProcess: Sendable {
    private static let running = Mutex<Set<Int32>>([])
    private static let installExitHandler: Void = {
        atexit {
            for pid in ChildProcess.running.withLock({ $0 }) { kill(-pid, SIGKILL) }
        }
    }()

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
        _ = Self.installExitHandler
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
        let pid = p.processIdentifier
        _ = Self.running.withLock { $0.insert(pid) }
    }

    public var pid: Int32 { process.processIdentifier }
    public var isRunning: Bool { process.isRunning }

    /// Everything the program printed so far (stdout and stderr interleaved).
    public var output: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Sends `signal` (SIGTERM by default) to the program (its main process only).
    public func signal(_ signal: Int32 = SIGTERM) { if process.isRunning { kill(process.processIdentifier, signal) } }

    /// Stops the program and everything it started: SIGTERM to its process group now, SIGKILL
    /// after `grace` from a separate thread. Returns at once, so a `defer` never holds one of the
    /// two cooperative threads other tests need (a process left over is killed at exit anyway).
    public func stopNow(grace: Duration = .seconds(2)) {
        let pid = process.processIdentifier
        kill(-pid, SIGTERM)
        let seconds = grace.components.seconds
        Thread.detachNewThread {
            sleep(UInt32(max(1, seconds)))
            kill(-pid, SIGKILL)
            _ = ChildProcess.running.withLock { $0.remove(pid) }
        }
    }

    /// Waits for the program to exit, killing it after `timeout`; returns its exit status.
    @discardableResult
    public func wait(timeout: Duration = .seconds(20)) async -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning {
            kill(-process.processIdentifier, SIGKILL)
            while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        }
        _ = Self.running.withLock { $0.remove(process.processIdentifier) }
        return process.terminationStatus
    }

    /// Stops the program: SIGTERM, then SIGKILL after `grace`.
    public func stop(grace: Duration = .seconds(10)) async {
        signal(SIGTERM)
        await wait(timeout: grace)
    }

    deinit {
        kill(-process.processIdentifier, SIGKILL)
        _ = Self.running.withLock { $0.remove(process.processIdentifier) }
    }
}
