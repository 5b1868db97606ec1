import Celeriac
import CeleriacDemoTasks
@testable import CeleriacWorker
import CeleriacTestSupport
import Foundation
import Glibc
import Logging
import Synchronization
import CeleriacTestTags
import Testing

/// ``ProcessPool`` on its own, with the built `qworker` as its child binary (the test runner
/// cannot be one): how each kind of ending comes back from a real child process.
@Suite(.tags(.integration), .serialized, .timeLimit(.minutes(2))) struct ProcessPoolExecutorTests {
    private static var qworker: PoolChildCommand {
        let path = TestEnvironment.binDirectory.appendingPathComponent("qworker").path
        return PoolChildCommand(executable: path, arguments: [path])
    }

    private static func pool(processes: Int = 1, maxTasksPerChild: Int? = nil, command: PoolChildCommand = qworker) throws -> ProcessPool {
        var logger = Logger(label: "pool-test")
        logger.logLevel = .critical
        let pool = ProcessPool(command: command, processes: processes, maxTasksPerChild: maxTasksPerChild, logger: logger)
        try pool.start()
        return pool
    }

    /// Runs `name(args)` through the pool; `onStart` sees the pid and the stop closure.
    private static func run(_ pool: ProcessPool, _ name: String, _ args: [JSONValue], limits: TimeLimit = TimeLimit(),
                            onStart: @escaping @Sendable (Int, @escaping @Sendable (Int) -> Void) -> Void = { _, _ in }) async -> TaskRun.Ending? {
        let task = DemoTasks.registry[name]!
        let context = TaskContext(id: UUID().uuidString, name: name, hostname: "test@box", logger: Logger(label: "t"))
        return await pool.run(context: context, task: task, args: args, kwargs: [:], limits: limits) { pid, stop in
            onStart(pid, stop)
            return true
        }
    }

    @Test func endingsFromAChildMatchTheInProcessOnes() async throws {
        let pool = try Self.pool()
        let pid = try #require(pool.pids.first)
        guard case .finished(.success(.int(5)))? = await Self.run(pool, "demo.add", [2, 3]) else { Issue.record("add"); return }
        guard case .finished(.failure(let e as TaskError))? = await Self.run(pool, "demo.fail", ["no"]) else { Issue.record("fail"); return }
        #expect(e == .valueError("no"))
        // Soft limit: the child cancels the body, which lets the CancellationError out.
        guard case .softLimit(0.3)? = await Self.run(pool, "demo.sleep", [10], limits: TimeLimit(soft: 0.3)) else { Issue.record("soft"); return }
        #expect(pool.pids == [pid], "one process served every task")
        await pool.shutdown()
        #expect(pool.pids.isEmpty)
        #expect(kill(pid_t(pid), 0) != 0, "the child exited")
    }

    @Test func aCrashAHardLimitAndAStopEachCostOneProcess() async throws {
        let pool = try Self.pool()
        guard case .workerLost(let reason)? = await Self.run(pool, "demo.crash", []) else { Issue.record("crash"); return }
        #expect(reason.hasPrefix("Worker exited prematurely: signal 6 (SIGABRT) Job: "), "\(reason)")
        guard case .hardLimit(0.5)? = await Self.run(pool, "demo.spin", [30], limits: TimeLimit(hard: 0.5)) else { Issue.record("hard"); return }
        let running = Mutex<Int?>(nil)
        guard case .workerLost(let stopped)? = await Self.run(pool, "demo.spin", [30], onStart: { pid, stop in
            running.withLock { $0 = pid }
            Thread.detachNewThread {
                usleep(300_000)
                stop(Int(SIGTERM))
            }
        }) else { Issue.record("stop"); return }
        #expect(stopped.contains("signal 15 (SIGTERM)"), "\(stopped)")
        #expect(running.withLock { $0 } != nil)
        // Three replacements, and only ever one process alive.
        try await waitUntil(timeout: .seconds(20)) { pool.spawnedCount == 4 && pool.pids.count == 1 }
        #expect(pool.spawnedCount == 4)
        guard case .finished(.success(.int(4)))? = await Self.run(pool, "demo.mul", [2, 2]) else { Issue.record("after"); return }
        await pool.shutdown()
    }

    @Test func jobNumbersCountEveryJobTheWayBilliardDoes() async throws {
        let pool = try Self.pool()
        _ = await Self.run(pool, "demo.add", [1, 1])
        guard case .workerLost(let reason)? = await Self.run(pool, "demo.crash", []) else { Issue.record("crash"); return }
        #expect(reason == "Worker exited prematurely: signal 6 (SIGABRT) Job: 1.")
        await pool.shutdown()
    }

    @Test func aBinaryThatCannotServeIsNotRestartedInATightLoop() async throws {
        let started = ContinuousClock.now
        let pool = try Self.pool(command: PoolChildCommand(executable: "/bin/true"))
        try await Task.sleep(for: .seconds(3))
        let starts = pool.spawnedCount
        let elapsed = ContinuousClock.now - started
        // Immediate exits back off 1 s, 2 s, 4 s, …: a handful of starts, not thousands. Counted
        // against the time that really passed: under load the 3 s sleep once lasted far longer.
        var allowed = 2  // the first start, and the first quick exit's immediate replacement
        var at = Duration.zero
        var delay = Duration.seconds(1)
        while at + delay <= elapsed + .milliseconds(500) {
            at += delay
            allowed += 1
            delay = min(delay * 2, .seconds(30))
        }
        #expect(starts <= allowed + 1, "\(starts) starts in \(elapsed)")
        await pool.shutdown()
    }
}
