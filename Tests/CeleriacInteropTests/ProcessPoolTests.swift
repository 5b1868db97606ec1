import Celeriac
import CeleriacTestSupport
import Foundation
import Logging
import CeleriacTestTags
import Testing

/// `qworker --pool process` for real: tasks run in child processes of the qworker binary, so a
/// crash, a hard limit or a terminate ends one child and the worker carries on with a new one.
@Suite(.tags(.integration), .serialized, .timeLimit(.minutes(3))) struct ProcessPoolTests {
    /// A pool worker on the harness' Redis, with extra environment (Celery settings).
    private static func startPoolWorker(_ h: InteropHarness, name: String, arguments: [String],
                                        environment: [String: String] = [:]) throws -> ChildProcess {
        try ChildProcess(name, executable: TestEnvironment.binDirectory.appendingPathComponent("qworker").path,
                         arguments: ["--broker", h.server.urlString, "-n", "\(name)@%h", "-P", "process", "--without-mingle"] + arguments,
                         environment: environment, logDirectory: h.logs)
    }

    private static func control(_ h: InteropHarness) async throws -> ControlClient {
        var logger = Logger(label: "pool-control")
        logger.logLevel = .warning
        return try await ControlClient.connect(url: h.server.url, logger: logger)
    }

    /// `inspect stats` → `pool` of the one worker, once it answers.
    private static func pool(_ control: ControlClient, _ worker: ChildProcess) async throws -> JSONValue {
        var pool: JSONValue?
        do {
            try await Self.eventually(worker, timeout: .seconds(30), "stats answered") {
                pool = try await control.broadcast("stats", timeout: .seconds(3), limit: 1).values.first?["pool"]
                return pool != nil
            }
        } catch {
            throw InteropFailure("the worker never answered stats:\n\(worker.output)")
        }
        return pool!
    }

    private static func processes(_ control: ControlClient, _ worker: ChildProcess) async throws -> [Int] {
        try await pool(control, worker)["processes"]?.arrayValue?.compactMap(\.intValue) ?? []
    }

    /// ``waitUntil(timeout:_:)`` that shows the worker's log when the condition never held.
    private static func eventually(_ worker: ChildProcess, timeout: Duration = .seconds(20), _ what: String,
                                   _ condition: () async throws -> Bool) async throws {
        do {
            try await waitUntil(timeout: timeout, condition)
        } catch let error as WaitUntilTimeout {
            throw InteropFailure("\(what): \(error)\n\(worker.output)")
        }
    }

    /// `inspect active` of the one worker, returning as soon as it answered.
    private static func active(_ control: ControlClient) async throws -> [JSONValue] {
        try await control.broadcast("active", arguments: ControlClient.inspectArguments("active"), timeout: .seconds(3), limit: 1)
            .values.first?.arrayValue ?? []
    }

    /// The parent pid of `pid`, from /proc.
    private static func parent(of pid: Int) -> Int? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 1 ? Int(fields[1]) : nil
    }

    private static func failure(_ r: AsyncResult) async throws -> TaskFailedError {
        do {
            let value = try await r.get(timeout: .seconds(30))
            throw InteropFailure("expected a failure, got \(value)")
        } catch let e as TaskFailedError {
            return e
        }
    }


    @Test func tasksRunInChildProcessesThatInspectStatsReports() async throws {
        let h = try InteropHarness()
        defer { h.close() }
        let worker = try Self.startPoolWorker(h, name: "pool", arguments: ["-c", "2"])
        defer { worker.stopNow() }
        let control = try await Self.control(h)
        let client = try await h.client()
        defer { client.close() }

        let pool = try await Self.pool(control, worker)
        #expect(pool["implementation"] == "celeriac.concurrency.process:ProcessPool")
        #expect(pool["max-concurrency"] == .int(2))
        #expect(pool["max-tasks-per-child"] == "N/A")
        let pids = pool["processes"]?.arrayValue?.compactMap(\.intValue) ?? []
        #expect(pids.count == 2, "\(pool)")
        for pid in pids { #expect(Self.parent(of: pid) == Int(worker.pid), "pool process \(pid) is the worker's child") }

        #expect(try await client.delay("demo.add", 2, 3).get(timeout: .seconds(20)) == .int(5), "\(worker.output)")
        #expect(try await client.send("demo.echo", args: [["nested": [1, 2.5, "x", nil]]]).get(timeout: .seconds(20))
                == ["nested": [1, 2.5, "x", nil]])
        let failed = try await Self.failure(try await client.delay("demo.fail", "boom"))
        #expect(failed.exception == ExceptionInfo(type: "ValueError", message: "boom"))
        let typeError = try await Self.failure(try await client.delay("demo.add", "a", 1))
        #expect(typeError.exception?.type == "TypeError")

        // The task ran in a pool process: `inspect active` names the child's pid.
        let sleeper = try await client.delay("demo.sleep", 3)
        var workerPID: Int?
        try await Self.eventually(worker, timeout: .seconds(20), "the sleeper is active") {
            let active = try await Self.active(control)
            workerPID = active.first { $0["id"] == .string(sleeper.id) }?["worker_pid"]?.intValue
            return workerPID != nil
        }
        #expect(pids.contains(workerPID!), "worker_pid \(workerPID!) is one of \(pids)")
        #expect(try await sleeper.get(timeout: .seconds(20)) == .double(3))
        await control.close()
    }

    @Test func aTaskThatCrashesItsProcessFailsWithWorkerLostErrorAndTheWorkerGoesOn() async throws {
        let h = try InteropHarness()
        defer { h.close() }
        let worker = try Self.startPoolWorker(h, name: "crashy", arguments: ["-c", "2", "-E"])
        defer { worker.stopNow() }
        let control = try await Self.control(h)
        let before = try await Self.processes(control, worker)
        let events = try await EventReceiver.connect(url: h.server.url, logger: Logger(label: "pool-events"))
        defer { events.close() }
        let client = try await h.client()
        defer { client.close() }

        let crash = try await client.delay("demo.crash")
        let failed = try await Self.failure(crash)
        #expect(failed.state == .failure)
        #expect(failed.exception?.type == "WorkerLostError")
        #expect(failed.exception?.module == "billiard.exceptions")
        let message = failed.exception?.message.first?.stringValue ?? ""
        let match = try #require(message.wholeMatch(of: #/Worker exited prematurely: signal (\d+) \((SIG[A-Z]+)\) Job: \d+\./#), "\(message)")
        #expect(match.1 == "6" && match.2 == "SIGABRT", "\(message)")
        for await event in events.events where event.task?.uuid == crash.id && event.type == "task-failed" {
            #expect(event.task?.exception == "WorkerLostError('\(message)')")
            break
        }

        // The worker is still there, and the crashed process was replaced.
        #expect(worker.isRunning)
        #expect(try await client.delay("demo.add", 20, 22).get(timeout: .seconds(20)) == .int(42), "\(worker.output)")
        var after: [Int] = []
        try await Self.eventually(worker, timeout: .seconds(20), "the crashed process was replaced") {
            after = try await Self.processes(control, worker)
            return after.count == 2
        }
        #expect(Set(after) != Set(before), "one process is new: \(before) → \(after)")
        #expect(Set(after).intersection(before).count == 1)
        #expect(worker.output.contains("exited with 'signal 6 (SIGABRT)'"), "\(worker.output)")
        await control.close()
    }

    @Test func aHardTimeLimitKillsABodyThatIgnoresCancellation() async throws {
        let h = try InteropHarness()
        defer { h.close() }
        let worker = try Self.startPoolWorker(h, name: "limited", arguments: ["-c", "1", "--time-limit", "1"])
        defer { worker.stopNow() }
        let control = try await Self.control(h)
        let before = try await Self.processes(control, worker)
        let client = try await h.client()
        defer { client.close() }

        let failed = try await Self.failure(try await client.delay("demo.spin", 60))
        #expect(failed.exception == ExceptionInfo(type: "TimeLimitExceeded", message: [.double(1)], module: "billiard.exceptions"))
        // TimeLimitExceeded (not a result) is what says the limit, not the spin's end, stopped it.
        // The slot is free again at once: the only process was replaced and takes the next task.
        #expect(try await client.delay("demo.add", 1, 1).get(timeout: .seconds(20)) == .int(2), "\(worker.output)")
        let after = try await Self.processes(control, worker)
        #expect(after.count == 1 && after != before, "\(before) → \(after)")
        #expect(Self.parent(of: before[0]) == nil, "the spinning process is gone")
        await control.close()
    }

    @Test func revokeTerminateSignalsTheProcessRunningTheTask() async throws {
        let h = try InteropHarness()
        defer { h.close() }
        let worker = try Self.startPoolWorker(h, name: "term", arguments: ["-c", "1"])
        defer { worker.stopNow() }
        let control = try await Self.control(h)
        let before = try await Self.processes(control, worker)
        let client = try await h.client()
        defer { client.close() }

        let spin = try await client.delay("demo.spin", 60)
        try await Self.eventually(worker, timeout: .seconds(20), "the spin is active") {
            let active = try await Self.active(control)
            return active.contains { $0["id"] == .string(spin.id) }
        }
        let reply = try await control.revoke([spin.id], terminate: true, signal: "SIGUSR1", reply: true, timeout: .seconds(3))
        #expect(reply.values.first?["ok"] == .string("terminate: \(spin.id)"), "\(reply)")
        let meta = try await spin.wait(timeout: .seconds(20))
        #expect(meta.status == .revoked, "\(worker.output)")
        #expect(meta.exception == .revoked("terminated"))
        #expect(worker.output.contains("'signal 10 (SIGUSR1)'"), "the process died of the requested signal:\n\(worker.output)")
        #expect(try await client.delay("demo.mul", 6, 7).get(timeout: .seconds(20)) == .int(42))
        let after = try await Self.processes(control, worker)
        #expect(after.count == 1 && after != before, "\(before) → \(after)")
        await control.close()
    }

    @Test func maxTasksPerChildReplacesAProcessAfterThatManyTasks() async throws {
        let h = try InteropHarness()
        defer { h.close() }
        let worker = try Self.startPoolWorker(h, name: "recycle", arguments: ["-c", "1", "--max-tasks-per-child", "2", "--loglevel", "debug"])
        defer { worker.stopNow() }
        let control = try await Self.control(h)
        let client = try await h.client()
        defer { client.close() }
        #expect(try await Self.pool(control, worker)["max-tasks-per-child"] == .int(2))

        var generations: [[Int]] = [try await Self.processes(control, worker)]
        for round in 0..<3 {
            for i in 0..<2 {
                #expect(try await client.delay("demo.add", round, i).get(timeout: .seconds(20)) == .int(round + i))
                if i == 0 {
                    // One task in: the same process is still serving.
                    #expect(try await Self.processes(control, worker) == generations.last!)
                }
            }
            // Two tasks in: that process retired and a new one took its place.
            var now: [Int] = []
            try await Self.eventually(worker, timeout: .seconds(20), "the process was recycled") {
                now = try await Self.processes(control, worker)
                return now.count == 1 && now != generations.last!
            }
            generations.append(now)
        }
        #expect(Set(generations.flatMap { $0 }).count == 4, "four processes served six tasks: \(generations)")
        #expect(!worker.output.contains("exited with"), "retired processes exit cleanly:\n\(worker.output)")
        await control.close()
    }

    @Test func poolGrowAndShrinkStartAndRetireProcesses() async throws {
        let h = try InteropHarness()
        defer { h.close() }
        let worker = try Self.startPoolWorker(h, name: "elastic", arguments: ["-c", "2"])
        defer { worker.stopNow() }
        let control = try await Self.control(h)
        let client = try await h.client()
        defer { client.close() }
        let first = try await Self.processes(control, worker)
        #expect(first.count == 2)

        _ = try await control.broadcast("pool_grow", arguments: ["n": 2], timeout: .seconds(3), limit: 1)
        var grown: [Int] = []
        try await Self.eventually(worker, timeout: .seconds(20), "the pool grew") {
            grown = try await Self.processes(control, worker)
            return grown.count == 4
        }
        #expect(Set(first).isSubset(of: grown))
        #expect(try await Self.pool(control, worker)["max-concurrency"] == .int(4))

        _ = try await control.broadcast("pool_shrink", arguments: ["n": 3], timeout: .seconds(3), limit: 1)
        var shrunk: [Int] = []
        try await Self.eventually(worker, timeout: .seconds(20), "the pool shrank") {
            shrunk = try await Self.processes(control, worker)
            return shrunk.count == 1
        }
        try await Self.eventually(worker, timeout: .seconds(10), "the surplus processes exited") { grown.filter { Self.parent(of: $0) == Int(worker.pid) }.count == 1 }
        #expect(try await client.delay("demo.add", 2, 2).get(timeout: .seconds(20)) == .int(4))
        await control.close()
    }

    @Test func heartbeatsAndControlKeepFlowingWhileEveryProcessSpins() async throws {
        let h = try InteropHarness()
        defer { h.close() }
        let worker = try Self.startPoolWorker(h, name: "busy", arguments: ["-c", "2"])
        defer { worker.stopNow() }
        let control = try await Self.control(h)
        _ = try await Self.processes(control, worker)
        let events = try await EventReceiver.connect(url: h.server.url, logger: Logger(label: "pool-events"))
        defer { events.close() }
        let client = try await h.client()
        defer { client.close() }

        let spins = [try await client.delay("demo.spin", 10), try await client.delay("demo.spin", 10)]
        try await Self.eventually(worker, timeout: .seconds(20), "both spins are active") {
            let active = try await Self.active(control)
            return active.count == 2
        }
        var heartbeats = 0
        for await event in events.events where event.type == "worker-heartbeat" && event.hostname?.hasPrefix("busy@") == true {
            #expect(event.worker?.active == 2, "both processes are busy")
            heartbeats += 1
            if heartbeats == 3 { break }
        }
        // Three heartbeats that each saw both processes busy: they kept coming while both spun
        // (no clock needed: a heartbeat sent after the spins would report none active).
        #expect(try await control.ping(timeout: .seconds(3)).count == 1, "the worker answers ping while both processes spin")
        for spin in spins { #expect(try await spin.get(timeout: .seconds(30)).intValue ?? 0 > 0) }
        await control.close()
    }

    @Test func ctrlCAtTheTerminalIsAWarmShutdownThatLetsPoolProcessesFinish() async throws {
        let h = try InteropHarness()
        defer { h.close() }
        let worker = try Self.startPoolWorker(h, name: "warm", arguments: ["-c", "1"])
        defer { worker.stopNow() }
        let control = try await Self.control(h)
        let children = try await Self.processes(control, worker)
        let client = try await h.client()
        defer { client.close() }

        let spin = try await client.delay("demo.spin", 2)
        try await Self.eventually(worker, timeout: .seconds(20), "the spin is active") { try await Self.active(control).count == 1 }
        // A terminal's Ctrl-C reaches the whole process group, pool children included.
        kill(-worker.pid, SIGINT)
        #expect(try await spin.get(timeout: .seconds(20)).intValue ?? 0 > 0, "the child finished its task:\n\(worker.output)")
        #expect(await worker.wait(timeout: .seconds(20)) == 0, "\(worker.output)")
        #expect(!worker.output.contains("WorkerLostError"))
        for pid in children { #expect(Self.parent(of: pid) == nil, "pool process \(pid) is gone") }
        await control.close()
    }

    @Test func aSecondCtrlCKillsPoolProcessesAndPutsTheirTasksBack() async throws {
        let h = try InteropHarness()
        defer { h.close() }
        let worker = try Self.startPoolWorker(h, name: "cold", arguments: ["-c", "1"])
        defer { worker.stopNow() }
        let control = try await Self.control(h)
        _ = try await Self.processes(control, worker)
        let client = try await h.client()
        defer { client.close() }
        let probe = try await RedisClient.connect(url: h.server.url, logger: .init(label: "probe"))
        defer { probe.close() }

        let spin = try await client.delay("demo.spin", 60)
        try await Self.eventually(worker, timeout: .seconds(20), "the spin is active") { try await Self.active(control).count == 1 }
        kill(-worker.pid, SIGINT)
        // The first Ctrl-C was counted (its line) and began the warm shutdown; the second is
        // sent only now, so the two cannot arrive as one signal.
        try await Self.eventually(worker, "the first Ctrl-C was taken as a warm shutdown") {
            worker.output.contains("Ctrl+C again will initiate cold shutdown") && worker.output.contains("warm shutdown: ")
        }
        // Control stops answering once a warm shutdown begins (as Celery's does), so the proof
        // that it waited for the spin is the cold shutdown's count below.
        #expect(worker.isRunning, "a warm shutdown waits for the spinning child")
        kill(-worker.pid, SIGINT)
        #expect(await worker.wait(timeout: .seconds(20)) == 0, "\(worker.output)")
        // The warm shutdown had waited for the spinning child: the cold one found it running.
        #expect(worker.output.contains("cold shutdown: stopping 1 running task(s)"), "\(worker.output)")
        // The body never yields, yet the cold shutdown stopped it (its child was killed) and
        // its message is back on the queue, not recorded as failed.
        #expect(try await probe.send(RedisCommand("LLEN", "celery")).int == 1)
        #expect(try await probe.send(RedisCommand("HLEN", "unacked")).int == 0)
        #expect(try await spin.state() == .pending)
        await control.close()
    }

    @Test func aPoolProcessKilledMidTaskWithAcksLateAndRejectOnWorkerLostRunsTheTaskAgain() async throws {
        let h = try InteropHarness()
        defer { h.close() }
        let worker = try Self.startPoolWorker(h, name: "requeue", arguments: ["-c", "1", "--acks-late"],
                                              environment: ["CELERY_TASK_REJECT_ON_WORKER_LOST": "true"])
        defer { worker.stopNow() }
        let control = try await Self.control(h)
        _ = try await Self.processes(control, worker)
        let client = try await h.client()
        defer { client.close() }

        let sleeper = try await client.delay("demo.sleep", 3)
        var pid: Int?
        try await Self.eventually(worker, timeout: .seconds(20), "the sleeper is active") {
            let active = try await Self.active(control)
            pid = active.first { $0["id"] == .string(sleeper.id) }?["worker_pid"]?.intValue
            return pid != nil
        }
        #expect(pid != Int(worker.pid))
        kill(pid_t(pid!), SIGKILL)
        // Requeued, not failed: it runs again on the replacement process and succeeds.
        #expect(try await sleeper.get(timeout: .seconds(30)) == .double(3), "\(worker.output)")
        #expect(worker.output.contains("requeued"), "\(worker.output)")
        let probe = try await RedisClient.connect(url: h.server.url, logger: .init(label: "probe"))
        defer { probe.close() }
        #expect(try await probe.send(RedisCommand("LLEN", DeadLetter.listKey)).int == 0)
        await control.close()
    }

    @Test func aTaskThatAlwaysCrashesItsProcessIsDeadLetteredAfterTheRedeliveryCap() async throws {
        let h = try InteropHarness()
        defer { h.close() }
        let worker = try Self.startPoolWorker(h, name: "poison", arguments: ["-c", "1", "--acks-late"],
                                              environment: ["CELERY_TASK_REJECT_ON_WORKER_LOST": "true"])
        defer { worker.stopNow() }
        let client = try await h.client()
        defer { client.close() }
        let probe = try await RedisClient.connect(url: h.server.url, logger: .init(label: "probe"))
        defer { probe.close() }

        let poison = try await client.delay("demo.crash")
        let failed = try await Self.failure(poison)
        #expect(failed.exception?.type == "WorkerLostError", "\(worker.output)")
        // Requeued three times (each run crashed), then dead-lettered on the fourth loss.
        #expect(worker.output.components(separatedBy: "requeued").count - 1 == 3, "\(worker.output)")
        let letters = try await probe.send(RedisCommand("LRANGE", DeadLetter.listKey, 0, -1)).array ?? []
        #expect(letters.count == 1)
        let letter = try DeadLetter.decode(try #require(letters.first?.bytes))
        #expect(letter.reason.contains("demo.crash[\(poison.id)] lost its pool process 4 times"), "\(letter.reason)")
        #expect(letter.reason.contains("WorkerLostError"))
        #expect(try TaskMessage.decode(bytes: Array(letter.message.utf8)).id == poison.id)
        // Nothing loops: the queue and kombu's unacked bookkeeping are empty, the worker is fine.
        try await Self.eventually(worker, timeout: .seconds(10), "unacked is empty") {
            try await probe.send(RedisCommand("HLEN", "unacked")).int == 0
        }
        #expect(try await probe.send(RedisCommand("LLEN", "celery")).int == 0)
        #expect(try await client.delay("demo.add", 1, 2).get(timeout: .seconds(20)) == .int(3))
    }
}
