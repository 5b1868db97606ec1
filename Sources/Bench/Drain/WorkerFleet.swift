public import CeleriacTestSupport
import Foundation

/// Which worker a drain runs and how.
public struct WorkerSpec: Sendable, Hashable {
    /// Swift (`qworker`) or Python (`celery worker --pool prefork`).
    public enum Side: String, Sendable, Hashable { case swift, python }

    public var side: Side
    /// Swift: this many `qworker` processes. Python: one worker with this many prefork
    /// processes (`-c`); Celery's parent process consumes and hands tasks to its pool.
    public var processes: Int
    /// Results stored in Redis (db 1); off = `--result-backend disabled` / `CELERY_RESULT_BACKEND=disabled`.
    public var results: Bool
    /// Task events (`-E`).
    public var events: Bool

    public init(side: Side, processes: Int, results: Bool, events: Bool) {
        self.side = side
        self.processes = processes
        self.results = results
        self.events = events
    }
}

/// Worker processes started for a drain, stopped together.
public final class WorkerFleet: Sendable {
    /// The children: one per Swift process, or the one Celery worker (its pool is its children).
    public let children: [ChildProcess]
    /// The command lines, for the report.
    public let commandLines: [String]

    /// Starts the workers of `spec` on `brokerURL`, results (when on) in `resultURL`.
    public init(spec: WorkerSpec, brokerURL: String, resultURL: String, queue: String, environment: BenchEnvironment, tag: String) throws {
        var children: [ChildProcess] = []
        var lines: [String] = []
        let backend = spec.results ? resultURL : "disabled"
        switch spec.side {
        case .swift:
            for i in 0..<spec.processes {
                var args = ["--broker", brokerURL, "--result-backend", backend, "-Q", queue, "-n", "bench\(i)-\(tag)@%h",
                            "-l", "WARNING", "--without-mingle"]
                if spec.events { args.append("-E") }
                args += environment.swiftWorkerArguments
                lines.append((["qworker"] + args).joined(separator: " "))
                children.append(try ChildProcess(
                    "qworker-\(tag)-\(i)", executable: environment.qworker, arguments: args, logDirectory: environment.logs))
            }
        case .python:
            var args = ["-m", "celery", "-A", "demoapp", "worker", "--pool", "prefork", "-c", String(spec.processes),
                        "-Q", queue, "-n", "bench-\(tag)@%h", "-l", "WARNING"]
            if spec.events { args.append("-E") }
            lines.append((["celery"] + args.dropFirst(2)).joined(separator: " "))
            children.append(try ChildProcess(
                "celery-\(tag)", executable: environment.python, arguments: args,
                environment: ["CELERY_BROKER_URL": brokerURL, "CELERY_RESULT_BACKEND": backend, "PYTHONDONTWRITEBYTECODE": "1"],
                workingDirectory: environment.interop, logDirectory: environment.logs))
        }
        self.children = children
        commandLines = lines
    }

    /// Fails with the logs' tails if a worker has exited.
    public func checkRunning() throws {
        for child in children where !child.isRunning {
            throw BenchError("\(child.name) exited:\n\(child.output.suffix(2000))")
        }
    }

    /// Resident bytes of every worker process and its pool.
    public func residentBytes() -> Int {
        children.reduce(0) { $0 + (ProcessMemory.treeResidentBytes(pid: $1.pid) ?? 0) }
    }

    /// The last lines every worker printed, for error messages.
    public var logTails: String {
        children.map { "--- \($0.name)\n" + String($0.output.suffix(1500)) }.joined(separator: "\n")
    }

    /// Warm shutdown (SIGTERM), killed after a grace period.
    public func stop() async {
        for child in children { child.signal(SIGTERM) }
        for child in children { await child.wait(timeout: .seconds(15)) }
    }
}
