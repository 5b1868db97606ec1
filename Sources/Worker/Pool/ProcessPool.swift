import Celeriac
import Foundation
import Glibc
import Logging
import Synchronization

/// `--pool process` (Celery's prefork): task bodies run in child processes of the worker's own
/// binary, one task per child at a time.
///
/// - A body that crashes its child (abort, a trap, a segfault, `kill -9`) ends as Celery's
///   `WorkerLostError`; the worker goes on and the child is replaced.
/// - The hard time limit and `revoke --terminate` are signals to the child (SIGKILL, or the
///   terminate's signal), so even a body that never checks for cancellation is stopped.
/// - `--max-tasks-per-child` retires a child after that many tasks.
/// - CPU-bound bodies spin in other processes, so the worker's consumer and heartbeat keep
///   their threads.
///
/// The worker's pool slots (``Worker/pool``) bound how many jobs run at once, so at most
/// `concurrency` children are busy; the pool keeps that many children alive.
final class ProcessPool: TaskExecutor {
    private struct State {
        /// By the child's number, never by pid: a pid may be reused once a child is reaped.
        var children: [Int: PoolChild] = [:]
        var idle: [PoolChild] = []
        /// Children told to exit (recycled or surplus) that have not exited yet.
        var retiring: Set<Int> = []
        var tasksRun: [Int: Int] = [:]
        var target: Int
        var nextNumber = 1
        var nextJob = 0
        /// Children being spawned to fill the pool, counted before they exist so two threads
        /// filling at once (a retirement and an exit) do not both start one.
        var starting = 0
        var closed = false
        /// Children in a row that died before taking any job: a binary that cannot serve as a
        /// pool child. Replacements then back off instead of spinning.
        var stillborn = 0
    }

    private let command: PoolChildCommand
    private let maxTasksPerChild: Int?
    private let logLevel: String
    private let logger: Logger
    private let state: Mutex<State>
    /// Waits out a stillborn back-off on the dead child's reader thread.
    private let backOff: @Sendable (Duration) -> Void

    /// - Parameter backOff: How the pool waits before replacing a child that died before taking
    ///   a job (blocking the calling thread). For tests: the default sleeps; a test passes a
    ///   closure that records the delays and decides when the wait ends, so it can count
    ///   restarts against back-offs instead of against a clock.
    init(command: PoolChildCommand, processes: Int, maxTasksPerChild: Int?, logger: Logger,
         backOff: @escaping @Sendable (Duration) -> Void = { Thread.sleep(forTimeInterval: $0.seconds) }) {
        self.command = command
        self.maxTasksPerChild = maxTasksPerChild
        self.logger = logger
        self.backOff = backOff
        logLevel = "\(logger.logLevel)".uppercased()
        state = Mutex(State(target: processes))
    }

    /// How many children were started so far, replacements included.
    var spawnedCount: Int { state.withLock { $0.nextNumber - 1 } }

    /// The pids of the children alive now (what `inspect stats` reports as `processes`).
    var pids: [Int] { state.withLock { s in s.children.filter { !s.retiring.contains($0.key) }.map { Int($0.value.pid) } }.sorted() }

    func start() throws {
        // A program whose main never reaches WorkerCommand.runPoolChildIfRequested would, as
        // its own pool child, start another worker with another pool, and so on: refuse.
        if ProcessInfo.processInfo.environment[PoolChildCommand.environmentKey] != nil {
            throw PoolError("this process is itself a pool child: its main must call WorkerCommand.run or runPoolChildIfRequested before starting a worker")
        }
        try fill()
        logger.info("pool: \(pids.count) processes \(pids.map(String.init).joined(separator: ", ")), max tasks per child \(maxTasksPerChild.map(String.init) ?? "unlimited")")
    }

    func run(context: TaskContext, task: RegisteredTask, args: [JSONValue], kwargs: JSONObject, limits: TimeLimit,
             started: @Sendable (Int, @escaping @Sendable (Int) -> Void) async -> Bool) async -> TaskRun.Ending? {
        let request = PoolRequest(context: context, args: args, kwargs: kwargs, softLimit: limits.soft)
        // A child that died before it took the job never ran it: try another (a few times).
        for _ in 0..<3 {
            let child: PoolChild
            let job: Int
            do {
                (child, job) = try checkout()
            } catch {
                logger.error("\(error)")
                return .finished(.failure(TaskError(type: "WorkerLostError", arguments: [.string("Could not start a pool process: \(error)")],
                                                    module: "billiard.exceptions")))
            }
            guard await child.send(request), case .reply(.started) = await child.next() else {
                child.signal(SIGKILL)
                continue
            }
            return await follow(child, job: job, limits: limits, started: started)
        }
        return .workerLost(reason: "Worker exited prematurely: no pool process would take the job.")
    }

    /// Watches a child that took a job until it answers or dies.
    private func follow(_ child: PoolChild, job: Int, limits: TimeLimit,
                        started: @Sendable (Int, @escaping @Sendable (Int) -> Void) async -> Bool) async -> TaskRun.Ending? {
        // A terminate sends its signal; a cold shutdown (0) kills outright.
        guard await started(Int(child.pid), { signum in child.signal(signum == 0 ? SIGKILL : Int32(signum)) }) else {
            child.signal(SIGKILL)
            _ = await child.next()
            return nil
        }
        let hardHit = TimeoutFlag()
        let timer = limits.hard.map { hard in
            Task {
                guard (try? await Task.sleep(for: .seconds(clamping: hard))) != nil else { return }
                hardHit.set()
                child.signal(SIGKILL)
            }
        }
        let event = await withTaskCancellationHandler {
            await child.next()
        } onCancel: {
            child.signal(SIGKILL)
        }
        timer?.cancel()
        switch event {
        case .reply(let reply):
            checkin(child)
            return reply.ending ?? .workerLost(reason: "Worker exited prematurely: the pool process sent \(reply.json) Job: \(job).")
        case .exited(let status):
            if hardHit.isSet, let hard = limits.hard { return .hardLimit(seconds: hard) }
            return .workerLost(reason: "Worker exited prematurely: \(WaitStatus.human(status)) Job: \(job).")
        }
    }

    private func checkout() throws -> (PoolChild, Int) {
        let found = state.withLock { s -> (PoolChild, Int)? in
            defer { s.nextJob += 1 }
            while let child = s.idle.popLast() {
                if child.isAlive { return (child, s.nextJob) }
            }
            return nil
        }
        if let found { return found }
        // Every child is busy or being replaced: start one more now rather than wait (a surplus
        // child is retired when it finishes).
        let child = try spawn(number: state.withLock { s in
            defer { s.nextNumber += 1 }
            return s.nextNumber
        }, idle: false)
        return (child, state.withLock { s in
            defer { s.nextJob += 1 }
            return s.nextJob
        })
    }

    /// A child finished a job: back to idle, or retired after `--max-tasks-per-child` jobs or
    /// when the pool shrank.
    private func checkin(_ child: PoolChild) {
        let retire = state.withLock { s -> Bool in
            let n = s.tasksRun[child.number, default: 0] + 1
            s.tasksRun[child.number] = n
            let alive = s.children.count - s.retiring.count
            if s.closed || (maxTasksPerChild.map { n >= $0 } ?? false) || alive > s.target {
                s.retiring.insert(child.number)
                return true
            }
            s.idle.append(child)
            return false
        }
        guard retire else { return }
        child.closeRequests()
        // Its replacement starts now, not when it has exited.
        do {
            try fill()
        } catch {
            logger.error("could not replace pool process \(child.number): \(error)")
        }
    }

    /// Starts child `number`; it is registered before its reader thread runs, so even a child
    /// that dies at once is seen exiting after it was counted.
    /// - Parameter reserved: It was counted in `starting` (by ``fill()``); registering it moves
    ///   it from there to `children` in one step, so it is never counted twice or not at all.
    private func spawn(number: Int, idle: Bool, reserved: Bool = false) throws -> PoolChild {
        let child = try PoolChild.spawn(command, number: number, logLevel: logLevel, registered: { child in
            self.state.withLock { s in
                s.children[child.number] = child
                if reserved { s.starting -= 1 }
                if idle { s.idle.append(child) }
            }
        }, onExit: { [weak self] child, status in
            self?.exited(child, status: status)
        })
        logger.debug("pool process \(number) started: pid \(child.pid)")
        return child
    }

    /// Starts the children missing now (not counting ones on their way out), and only those: a
    /// child that dies before this returns is replaced by its own exit handler, after the
    /// stillborn back-off. (Counting again after each start replaced it at once, so a binary
    /// that cannot serve was restarted in a tight loop by whichever thread was filling.)
    private func fill() throws {
        var missing = state.withLock { s in s.closed ? 0 : s.target - (s.children.count - s.retiring.count + s.starting) }
        while missing > 0, let number = state.withLock({ s -> Int? in
            guard !s.closed, s.children.count - s.retiring.count + s.starting < s.target else { return nil }
            s.starting += 1
            defer { s.nextNumber += 1 }
            return s.nextNumber
        }) {
            missing -= 1
            do {
                _ = try spawn(number: number, idle: true, reserved: true)
            } catch {
                state.withLock { $0.starting -= 1 }
                throw error
            }
        }
    }

    /// Runs on the child's reader thread once it exited: forget it and replace it.
    private func exited(_ child: PoolChild, status: Int32) {
        let (expected, tasks, stillborn) = state.withLock { s -> (Bool, Int, Int) in
            s.children[child.number] = nil
            s.idle.removeAll { $0 === child }
            let expected = s.retiring.remove(child.number) != nil || s.closed
            let tasks = s.tasksRun.removeValue(forKey: child.number) ?? 0
            s.stillborn = tasks == 0 && !expected && !child.wasSignalled && !child.tookJob ? s.stillborn + 1 : 0
            return (expected, tasks, s.stillborn)
        }
        if expected {
            logger.debug("pool process \(child.number) (pid \(child.pid)) exited after \(tasks) task(s)")
        } else if child.wasSignalled {
            logger.info("Process 'PoolWorker-\(child.number)' pid:\(child.pid) stopped with '\(WaitStatus.human(status))'")
        } else {
            logger.error("Process 'PoolWorker-\(child.number)' pid:\(child.pid) exited with '\(WaitStatus.human(status))'")
        }
        if let delay = Self.stillbornBackOff(inARow: stillborn) {
            // This runs on the dead child's own reader thread, so waiting here holds up nothing else.
            logger.error("pool processes keep exiting before taking a task (\(stillborn) in a row): next one in \(delay.components.seconds) s")
            backOff(delay)
        }
        do {
            try fill()
        } catch {
            logger.error("could not replace pool process \(child.number): \(error)")
        }
    }

    /// How long to wait before replacing a child when `stillborn` children in a row died before
    /// taking a job: the first is replaced at once, then 1 s, 2 s, 4 s, … up to 30 s.
    static func stillbornBackOff(inARow stillborn: Int) -> Duration? {
        guard stillborn > 1 else { return nil }
        return .seconds(min(30, 1 << min(stillborn - 2, 5)))
    }

    func resize(to concurrency: Int) {
        let surplus = state.withLock { s -> [PoolChild] in
            s.target = max(1, concurrency)
            var surplus: [PoolChild] = []
            while s.children.count - s.retiring.count > s.target, let child = s.idle.popLast() {
                s.retiring.insert(child.number)
                surplus.append(child)
            }
            return surplus
        }
        surplus.forEach { $0.closeRequests() }
        do {
            try fill()
        } catch {
            logger.error("could not grow the pool: \(error)")
        }
    }

    func shutdown() async {
        let children = state.withLock { s -> [PoolChild] in
            s.closed = true
            s.idle = []
            return Array(s.children.values)
        }
        children.forEach { $0.closeRequests() }
        let deadline = ContinuousClock.now + .seconds(5)
        while state.withLock({ !$0.children.isEmpty }), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        state.withLock { Array($0.children.values) }.forEach { $0.signal(SIGKILL) }
    }

    func info(concurrency: Int, timeLimit: TimeLimit) -> JSONObject {
        [
            "implementation": .string(WorkerPoolKind.process.statsImplementation), "max-concurrency": .int(concurrency),
            "processes": .array(pids.map(JSONValue.int)),
            "max-tasks-per-child": maxTasksPerChild.map(JSONValue.int) ?? "N/A", "put-guarded-by-semaphore": false,
            "timeouts": [.double(timeLimit.soft ?? 0), .double(timeLimit.hard ?? 0)],
        ]
    }
}
