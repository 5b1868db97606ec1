public import Celeriac
import Foundation

/// Runs one of the Python side's scripts (`bench/*.py`) with the venv's Python and reads the
/// JSON object it prints as its last line of output.
public struct PythonScript: Sendable {
    let environment: BenchEnvironment

    public init(environment: BenchEnvironment) { self.environment = environment }

    /// Runs `bench/<name>` with `arguments`, `CELERY_*` settings in `variables`; fails with
    /// its output when it exits non-zero or prints no JSON object.
    public func run(_ name: String, _ arguments: [String], variables: [String: String] = [:], timeout: Duration = .seconds(900)) async throws -> JSONObject {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: environment.python)
        process.arguments = [environment.benchScripts.appendingPathComponent(name).path] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(
            variables.merging(["PYTHONDONTWRITEBYTECODE": "1"]) { a, _ in a }) { _, new in new }
        process.currentDirectoryURL = environment.interop
        let logPath = environment.logs.file("\(name)-\(UUID().uuidString.prefix(8)).log")
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline {
                process.terminate()
                throw BenchError("bench/\(name) did not finish within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        try? log.close()
        let output = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else {
            throw BenchError("bench/\(name) exited \(process.terminationStatus):\n\(output.suffix(3000))")
        }
        guard let last = output.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
            case .object(let object)? = try? JSONParser.parse(String(last))
        else { throw BenchError("bench/\(name) printed no JSON result:\n\(output.suffix(3000))") }
        return object
    }
}

extension JSONObject {
    /// The numbers of an array field, e.g. `"rates": [812.5, 790.1, 803.0]`.
    func numbers(_ key: String) -> [Double] {
        (self[key]?.arrayValue ?? []).compactMap(\.doubleValue)
    }
}
