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

    private static func pool(processes: Int = 1, maxTasksPerChild: Int? = nil, command: PoolChildCommand = qworker,
                             backOff: @escaping @Sendable (Duration) -> Void = { _ in }) throws -> ProcessPool {
        var logger = Logger(label: "pool-test")
        logger.logLevel = .critical
        let pool = ProcessPool(command: command, processes: processes, maxTasksPerChild: maxTasksPerChild, logger: logger,
                               backOff: backOff)
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

    @Test func stillbornChildrenAreReplacedAtOnceThenAfterDoublingBackOffs() {
        let delays = (1...9).map { ProcessPool.stillbornBackOff(inARow: $0)?.components.seconds }
        #expect(delays == [nil, 1, 2, 4, 8, 16, 30, 30, 30])
    }

    /// Each replacement of a child that died at once waits for a back-off: the test holds each
    /// back-off open and counts the starts meanwhile, so no clock decides the outcome.
    @Test func aBinaryThatCannotServeIsNotRestartedInATightLoop() async throws {
        let gate = BackOffGate()
        let pool = try Self.pool(command: PoolChildCommand(executable: "/bin/true"), backOff: gate.wait)
        let stepped = await Result(catching: { () async throws -> Void in
            for (i, seconds) in [1, 2, 4, 8, 16, 30].enumerated() {
                try await waitUntil(timeout: .seconds(30)) { gate.delays.count == i + 1 }
                #expect(gate.delays.last == .seconds(seconds))
                // While this back-off lasts nothing starts a child: the first start, the first
                // quick exit's immediate replacement, and one start after each back-off before.
                #expect(pool.spawnedCount == i + 2, "\(pool.spawnedCount) starts at back-off \(i + 1)")
                gate.letOneGo()
            }
            try await waitUntil(timeout: .seconds(30)) { gate.delays.count == 7 }
            #expect(pool.spawnedCount == 8)
        })
        if case .failure = stepped { Issue.record("back-offs \(gate.delays), starts \(pool.spawnedCount), alive \(pool.pids)") }
        // Closed first, so the back-offs let go now end without starting another child.
        await pool.shutdown()
        gate.letAllGo()
        try stepped.get()
    }
}

/// Stands in for ``ProcessPool``'s back-off wait: records each delay and holds the calling (child
/// reader) thread until the test lets it go.
///
/// `@unchecked Sendable` is sound: `delaysSoFar`, `permits` and `open` are only accessed with
/// `condition` locked.
private final class BackOffGate: @unchecked Sendable {
    private let condition = NSCondition()
    private var delaysSoFar: [Duration] = []
    private var permits = 0
    private var open = false

    var delays: [Duration] {
        condition.lock()
        defer { condition.unlock() }
        return delaysSoFar
    }

    func wait(_ delay: Duration) {
        condition.lock()
        defer { condition.unlock() }
        delaysSoFar.append(delay)
        while permits == 0 && !open { condition.wait() }
        if !open { permits -= 1 }
    }

    func letOneGo() {
        condition.lock()
        permits += 1
        condition.broadcast()
        condition.unlock()
    }

    /// Ends the back-off in progress, if any, and every later one at once.
    func letAllGo() {
        condition.lock()
        open = true
        condition.broadcast()
        condition.unlock()
    }
}
