public import Celeriac
import Foundation
import Synchronization

/// The built-in tasks `qworker` ships, so the demo and tests have real work to run.
/// `interop/demoapp.py` defines the same tasks for Python workers.
///
/// Each is a ``CeleryTask`` type (``Add``, ``Mul``, …), so a Swift client sends them typed:
/// `client.delay(DemoTasks.Add.self, .init(x: 2, y: 3))`.
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

    /// Adds `demo.add`, `demo.mul`, `demo.tsum`, `demo.echo`, `demo.noop`, `demo.sleep`,
    /// `demo.fail`, `demo.flaky`, `demo.spin`, `demo.crash`, the errbacks `demo.log_error` and
    /// `demo.on_error`, and `demo.replaced_by_mul`.
    public static func register(into registry: inout TaskRegistry) {
        registry.register(Add.self)
        registry.register(Mul.self)
        registry.register(TSum.self)
        registry.register(Echo.self)
        registry.register(Noop.self)
        registry.register(Sleep.self)
        registry.register(Fail.self)
        registry.register(Flaky.self)
        registry.register(Spin.self)
        registry.register(Crash.self)
        registry.register(LogError.self)
        registry.register(OnError.self)
        registry.register(ReplacedByMul.self)
    }

    /// `(x, y)`: the operands of `demo.add` and `demo.mul`, any JSON numbers.
    public struct Operands: Codable, Sendable, Hashable {
        public var x: JSONValue
        public var y: JSONValue

        public init(x: JSONValue, y: JSONValue) {
            self.x = x
            self.y = y
        }
    }

    /// `demo.add(x, y)`: `x + y` with Python's number rules: integers stay integers
    /// (overflow is an `OverflowError`), a float on either side gives a float.
    public enum Add: CeleryTask {
        public static let name = "demo.add"
        public static func run(_ a: Operands, context: TaskContext) async throws -> JSONValue {
            try arithmetic(a.x, a.y, { $0.addingReportingOverflow($1) }, +)
        }
    }

    /// `demo.mul(x, y)`: `x * y` with Python's number rules.
    public enum Mul: CeleryTask {
        public static let name = "demo.mul"
        public static func run(_ a: Operands, context: TaskContext) async throws -> JSONValue {
            try arithmetic(a.x, a.y, { $0.multipliedReportingOverflow(by: $1) }, *)
        }
    }

    /// `demo.tsum(nums)`: Python's `sum(nums)`, Celery's usual chord callback.
    public enum TSum: CeleryTask {
        public static let name = "demo.tsum"
        public struct Arguments: Codable, Sendable, Hashable {
            public var nums: [JSONValue]
            public init(nums: [JSONValue]) { self.nums = nums }
        }
        public static func run(_ a: Arguments, context: TaskContext) async throws -> JSONValue {
            try a.nums.reduce(JSONValue.int(0)) { try arithmetic($0, $1, { $0.addingReportingOverflow($1) }, +) }
        }
    }

    /// `demo.echo(value)`: returns its argument unchanged (big integers, `2.0`, key order and all).
    public enum Echo: CeleryTask {
        public static let name = "demo.echo"
        public struct Arguments: Codable, Sendable, Hashable {
            public var value: JSONValue
            public init(value: JSONValue) { self.value = value }
        }
        public static func run(_ a: Arguments, context: TaskContext) async throws -> JSONValue { a.value }
    }

    /// `demo.noop(*args, **kwargs)`: takes any arguments and returns None. The benchmark's task
    /// (qbench), so a drain measures the worker, not the task body; payload-size runs pass
    /// their bytes as an argument.
    public enum Noop: CeleryTask {
        public static let name = "demo.noop"
        public static func run(_ a: TaskArguments, context: TaskContext) async throws -> JSONValue { .null }
    }

    /// `(seconds)`: how long `demo.sleep` and `demo.spin` take.
    public struct Seconds: Codable, Sendable, Hashable {
        public var seconds: Double
        public init(seconds: Double) { self.seconds = seconds }
    }

    /// `demo.sleep(seconds)`: sleeps (cancellably) and returns `seconds`.
    public enum Sleep: CeleryTask {
        public static let name = "demo.sleep"
        public static func run(_ a: Seconds, context: TaskContext) async throws -> Double {
            guard a.seconds >= 0, a.seconds.isFinite else { throw TaskError.valueError("sleep length must be non-negative") }
            try await Task.sleep(for: .seconds(a.seconds))
            return a.seconds
        }
    }

    /// `demo.fail(message)`: raises `ValueError(message)`.
    public enum Fail: CeleryTask {
        public static let name = "demo.fail"
        public struct Arguments: Codable, Sendable, Hashable {
            public var message: String
            public init(message: String) { self.message = message }
        }
        public static func run(_ a: Arguments, context: TaskContext) async throws -> JSONValue {
            throw TaskError.valueError(a.message)
        }
    }

    /// `demo.flaky(key, failures)`: fails the first `failures` calls for `key` with
    /// `RuntimeError`, then returns the call count.
    public enum Flaky: CeleryTask {
        public static let name = "demo.flaky"
        public struct Arguments: Codable, Sendable, Hashable {
            public var key: String
            public var failures: Int
            public init(key: String, failures: Int) {
                self.key = key
                self.failures = failures
            }
        }
        public static func run(_ a: Arguments, context: TaskContext) async throws -> Int {
            let n = flakyCounts.withLock { counts -> Int in
                let n = counts[a.key, default: 0]
                counts[a.key] = n + 1
                return n
            }
            if n < a.failures { throw TaskError.runtimeError("flaky \(a.key): failure \(n + 1) of \(a.failures)") }
            return n + 1
        }
    }

    /// `demo.spin(seconds)`: CPU-bound and deaf to cancellation: only a process pool's hard
    /// limit or terminate stops it early. Returns the rounds it spun.
    public enum Spin: CeleryTask {
        public static let name = "demo.spin"
        public static func run(_ a: Seconds, context: TaskContext) async throws -> Int {
            guard a.seconds >= 0, a.seconds.isFinite else { throw TaskError.valueError("spin length must be non-negative") }
            let end = ContinuousClock.now + .milliseconds(Int64(a.seconds * 1000))
            var rounds = 0
            while ContinuousClock.now < end { rounds &+= 1 }
            return rounds
        }
    }

    /// `demo.crash()`: kills the process running it (SIGABRT). Under `--pool process`, a
    /// `WorkerLostError`; never send it to an async-pool worker.
    public enum Crash: CeleryTask {
        public static let name = "demo.crash"
        public static func run(_ a: NoArguments, context: TaskContext) async throws -> Int {
            abort()
        }
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
