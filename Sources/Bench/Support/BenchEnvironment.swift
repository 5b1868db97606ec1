public import Foundation
public import CeleriacTestSupport

/// Where the benchmark finds what it runs: the release `qworker` beside `qbench`, the venv's
/// Python with Celery 5.7, `interop/` (the Python twin of the demo tasks) and `bench/` (the
/// Python side's scripts); plus a temp dir for the children's logs.
public struct BenchEnvironment: Sendable {
    /// The checkout.
    public var root: URL
    /// `qworker` (release build).
    public var qworker: String
    /// Python with celery==5.7.0.
    public var python: String
    /// Extra `qworker` flags for every Swift worker (e.g. to try a concurrency).
    public var swiftWorkerArguments: [String]
    /// Logs of every child, kept until the run ends (and printed on failure).
    public let logs: TemporaryDirectory

    public init(root: URL, qworker: String, python: String, swiftWorkerArguments: [String] = []) throws {
        self.root = root
        self.qworker = qworker
        self.python = python
        self.swiftWorkerArguments = swiftWorkerArguments
        logs = try TemporaryDirectory(prefix: "celeriac-bench")
        for path in [qworker, python] where !FileManager.default.isExecutableFile(atPath: path) {
            throw BenchError("\(path) is not an executable (run scripts/bench.sh, which builds and bootstraps first)")
        }
    }

    /// `interop/`: `demoapp.py`, the Celery app both Python workers and clients use.
    public var interop: URL { root.appendingPathComponent("interop") }
    /// `bench/`: the Python side's scripts.
    public var benchScripts: URL { root.appendingPathComponent("bench") }

    /// The directory holding this executable (`/proc/self/exe`), where `swift build` puts
    /// `qworker` beside `qbench`.
    public static var executableDirectory: URL {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent()
    }
}
