public import Celeriac
import Foundation
import Synchronization

/// The built-in tasks `qworker` ships, so the demo and tests have real work to run.
/// `interop/demoapp.py` defines the same tasks for Python workers.
///
/// A target of its own (`CeleriacDemoTasks`), outside the `CeleriacWorker` product: `demo.crash`
/// calls `abort()`, which no application should link by accident.
public enum DemoTasks {
    /// Failure counts per key for `demo.flaky`, kept for the life of the process.
    private static let flakyCounts = Mutex<[String: Int]>([:])

    /// A registry holding every demo task.
    public static var registry: TaskRegistry {
        var registry = TaskRegistry()
        register(into: &registry)
        return registry
    }

    /// Adds `demo.add`, `demo.mul`, `demo.echo`, `demo.noop`, `demo.sleep`, `demo.fail`,
    /// `demo.flaky`, `demo.spin` and `demo.crash`.
    public static func register(into registry: inout TaskRegistry) {
        registry.register("demo.add", parameters: ["x", "y"]) { (x: JSONValue, y: JSONValue) in try arithmetic(x, y, { $0.addingReportingOverflow($1) }, +) }
        registry.register("demo.mul", parameters: ["x", "y"]) { (x: JSONValue, y: JSONValue) in try arithmetic(x, y, { $0.multipliedReportingOverflow(by: $1) }, *) }
        registry.registerRaw("demo.echo") { call in
            try call.bind(to: ["value"], taskName: "demo.echo")[0]
        }
        // Takes any arguments and returns None: the benchmark's task (qbench), so a drain
        // measures the worker, not the task body; payload-size runs pass their bytes as an argument.
        registry.registerRaw("demo.noop") { _ in .null }
        registry.register("demo.sleep", parameters: ["seconds"]) { (seconds: Double) -> Double in
            guard seconds >= 0, seconds.isFinite else { throw TaskError.valueError("sleep length must be non-negative") }
            try await Task.sleep(for: .seconds(seconds))
            return seconds
        }
        registry.register("demo.fail", parameters: ["message"]) { (message: String) -> JSONValue in
            throw TaskError.valueError(message)
        }
        registry.register("demo.flaky", parameters: ["key", "failures"]) { (key: String, failures: Int) -> Int in
            let n = flakyCounts.withLock { counts -> Int in
                let n = counts[key, default: 0]
                counts[key] = n + 1
                return n
            }
            if n < failures { throw TaskError.runtimeError("flaky \(key): failure \(n + 1) of \(failures)") }
            return n + 1
        }
        // CPU-bound and deaf to cancellation: only a process pool's hard limit or terminate stops it early.
        registry.register("demo.spin", parameters: ["seconds"]) { (seconds: Double) -> Int in
            guard seconds >= 0, seconds.isFinite else { throw TaskError.valueError("spin length must be non-negative") }
            let end = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
            var rounds = 0
            while ContinuousClock.now < end { rounds &+= 1 }
            return rounds
        }
        // Kills the process running it (SIGABRT): under --pool process, a WorkerLostError; never
        // send it to an async-pool worker.
        registry.register("demo.crash", parameters: []) { () -> Int in
            abort()
        }
        registerWorkflowTasks(into: &registry)
    }

    /// Adds or multiplies like Python: integers stay integers (overflow is an error rather than
    /// a wrong answer), a float on either side gives a float.
    private static func arithmetic(
        _ x: JSONValue, _ y: JSONValue,
        _ intOp: (Int, Int) -> (partialValue: Int, overflow: Bool),
        _ doubleOp: (Double, Double) -> Double
    ) throws -> JSONValue {
        switch (x, y) {
        case (.int(let a), .int(let b)):
            return .int(try checked(a, b, intOp))
        case (.int, .double), (.double, .int), (.double, .double):
            return .double(doubleOp(x.doubleValue!, y.doubleValue!))
        default:
            throw TaskError.typeError("unsupported operand types: \(PythonRepr.repr(x)) and \(PythonRepr.repr(y))")
        }
    }

    static func checked(_ a: Int, _ b: Int, _ op: (Int, Int) -> (partialValue: Int, overflow: Bool)) throws -> Int {
        let (value, overflow) = op(a, b)
        if overflow { throw TaskError(type: "OverflowError", arguments: ["integer result too large for a Swift worker"]) }
        return value
    }
}
