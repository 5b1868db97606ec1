import Celeriac
import CeleriacTestSupport
import Foundation
import Logging

/// Real processes around a private redis-server: `qworker` from this build and Python Celery 5.7
/// from the venv the test command made.
final class InteropHarness: Sendable {
    let server: RedisServer
    let logs: TemporaryDirectory

    init() throws {
        server = try RedisServer.start()
        logs = try TemporaryDirectory(prefix: "celeriac-interop")
    }

    var pythonEnvironment: [String: String] {
        ["CELERY_BROKER_URL": server.urlString, "CELERY_RESULT_BACKEND": server.urlString, "PYTHONPATH": TestEnvironment.interopDirectory.path,
         "PYTHONUNBUFFERED": "1"]
    }

    /// Starts `qworker` with the demo tasks on this Redis.
    func startSwiftWorker(name: String = "swift", arguments: [String] = []) throws -> ChildProcess {
        try ChildProcess(name, executable: TestEnvironment.binDirectory.appendingPathComponent("qworker").path,
                         arguments: ["--broker", server.urlString, "-n", "\(name)@%h"] + arguments, logDirectory: logs)
    }

    /// Starts a real Celery worker running `interop/demoapp.py`.
    func startPythonWorker(name: String = "py", arguments: [String] = []) throws -> ChildProcess {
        try ChildProcess(name, executable: TestEnvironment.python,
                         arguments: ["-m", "celery", "-A", "demoapp", "worker", "-n", "\(name)@%h", "-c", "2", "--loglevel", "INFO", "--without-mingle", "--without-gossip"] + arguments,
                         environment: pythonEnvironment, workingDirectory: TestEnvironment.interopDirectory, logDirectory: logs)
    }

    /// Runs a Python script from `interop/` to completion and returns its stdout lines parsed as JSON.
    func runPython(_ script: String, _ arguments: [String], timeout: Duration = .seconds(60)) async throws -> [JSONValue] {
        let p = try ChildProcess("\(script)-\(UUID().uuidString.prefix(4))", executable: TestEnvironment.python,
                                 arguments: [TestEnvironment.interopDirectory.appendingPathComponent(script).path] + arguments,
                                 environment: pythonEnvironment, workingDirectory: TestEnvironment.interopDirectory, logDirectory: logs)
        let status = await p.wait(timeout: timeout)
        guard status == 0 else { throw InteropFailure("\(script) exited \(status):\n\(p.output)") }
        return try p.output.split(separator: "\n").filter { $0.hasPrefix("{") || $0.hasPrefix("[") || Int($0) != nil }.map { try JSONParser.parse(String($0)) }
    }

    /// Runs `celery -A demoapp <arguments>` (the real CLI) to completion; returns stdout+stderr.
    func celery(_ arguments: [String], timeout: Duration = .seconds(60)) async throws -> String {
        let p = try ChildProcess("celery-\(arguments.first ?? "")-\(UUID().uuidString.prefix(4))", executable: TestEnvironment.python,
                                 arguments: ["-m", "celery", "-A", "demoapp"] + arguments,
                                 environment: pythonEnvironment, workingDirectory: TestEnvironment.interopDirectory, logDirectory: logs)
        let status = await p.wait(timeout: timeout)
        guard status == 0 else { throw InteropFailure("celery \(arguments.joined(separator: " ")) exited \(status):\n\(p.output)") }
        return p.output
    }

    /// Starts a long-running `celery -A demoapp <arguments>` (events, flower) in the background.
    func startCelery(_ name: String, _ arguments: [String], environment: [String: String] = [:]) throws -> ChildProcess {
        try ChildProcess(name, executable: TestEnvironment.python, arguments: ["-m", "celery", "-A", "demoapp"] + arguments,
                         environment: pythonEnvironment.merging(environment) { _, new in new },
                         workingDirectory: TestEnvironment.interopDirectory, logDirectory: logs)
    }

    func client() async throws -> CeleriacClient {
        var config = CeleriacConfig()
        config.brokerURL = server.urlString
        var logger = Logger(label: "interop-client")
        logger.logLevel = .warning
        return try await CeleriacClient.connect(config: config, logger: logger)
    }

    func close() {
        server.stop()
    }
}

struct InteropFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
