import Celeriac
import CeleriacDemoTasks
import CeleriacTestSupport
import CeleriacWorker
import Foundation
import Synchronization
import CeleriacTestTags
import Testing

/// Celery's per-task options on a real worker: retries (explicit, max_retries, autoretry_for with
/// backoff), acks_late, ignore_result, track_started.
@Suite(.tags(.integration), .timeLimit(.minutes(2))) struct TaskOptionsTests {
    /// Holds the bodies of `t.late`, `t.held` and `t.tracked` until the test opens it, so a
    /// check "while the task runs" is made while it certainly runs, however slow the machine.
    final class Gate: Sendable {
        private let state = Mutex((entered: 0, open: false))
        var entered: Int { state.withLock { $0.entered } }
        func open() { state.withLock { $0.open = true } }
        func pass() async throws {
            state.withLock { $0.entered += 1 }
            try await waitUntil(timeout: .seconds(60)) { self.state.withLock { $0.open } }
        }
    }

    private func registry(gate: Gate = Gate()) -> TaskRegistry {
        var r = DemoTasks.registry
        r.register("t.retrying", parameters: ["times"], options: TaskOptions(maxRetries: 5)) { (times: Int) -> [String] in
            let ctx = TaskContext.current!
            if ctx.retries < times { throw ctx.retry(countdown: 0.2, error: TaskError.runtimeError("not yet")) }
            return [String(ctx.retries), ctx.parentID ?? "none"]
        }
        r.register("t.always_retry", parameters: [], options: TaskOptions(maxRetries: 1)) { () -> Int in
            throw TaskContext.current!.retry(countdown: 0.1)
        }
        r.register("t.auto", parameters: [], options: TaskOptions(maxRetries: 3, autoretryFor: ["RuntimeError"], retryBackoff: 0.1, retryJitter: false)) { () -> Int in
            throw TaskError.runtimeError("attempt \(TaskContext.current!.retries)")
        }
        r.register("t.late", parameters: [], options: TaskOptions(acksLate: true)) { () -> String in
            try await gate.pass(); return "late"
        }
        r.register("t.held", parameters: []) { () -> String in
            try await gate.pass(); return "held"
        }
        r.register("t.silent", parameters: [], options: TaskOptions(ignoreResult: true)) { () in 1 }
        r.register("t.tidy", parameters: []) { () -> String in
            do {
                try await Task.sleep(for: .seconds(10))
                return "finished"
            } catch {
                return "cleaned up"  // what a Python task catching SoftTimeLimitExceeded does
            }
        }
        r.register("t.stubborn", parameters: []) { () -> String in
            // Ignores cancellation entirely: only the hard limit ends it.
            let until = ContinuousClock.now + .seconds(5)
            while ContinuousClock.now < until { await Task.yield(); try? await Task.sleep(for: .milliseconds(10)) }
            return "too late"
        }
        r.register("t.tracked", parameters: [], options: TaskOptions(trackStarted: true)) { () -> String in
            try await gate.pass(); return "tracked"
        }
        return r
    }

    @Test func retryResendsTheSameTaskWithMoreRetriesAndItselfAsParent() async throws {
        let h = try await WorkerHarness(tasks: registry())
        defer { Task { await h.close() } }
        let r = try await h.client.delay("t.retrying", 2)
        var sawRetry = false
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, !sawRetry {
            if try await r.state() == .retry { sawRetry = true } else { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(sawRetry, "RETRY is stored between attempts")
        #expect(try await r.get(timeout: .seconds(10)) == ["2", .string(r.id)])
    }

    @Test func retriesRunOutIntoMaxRetriesExceeded() async throws {
        let h = try await WorkerHarness(tasks: registry())
        defer { Task { await h.close() } }
        let meta = try await h.client.delay("t.always_retry").wait(timeout: .seconds(10))
        #expect(meta.status == .failure)
        #expect(meta.exception?.type == "MaxRetriesExceededError")
        #expect(meta.exception?.module == "celery.exceptions")
    }

    @Test func autoretryForRetriesWithExponentialBackoffThenFails() async throws {
        let h = try await WorkerHarness(tasks: registry())
        defer { Task { await h.close() } }
        let started = Date()
        let meta = try await h.client.delay("t.auto").wait(timeout: .seconds(15))
        #expect(meta.status == .failure)
        #expect(meta.exception?.type == "RuntimeError")
        #expect(meta.exception?.message == ["attempt 3"], "three retries, then the error itself")
        #expect(Date().timeIntervalSince(started) >= 0.65, "0.1 + 0.2 + 0.4 s of backoff")
    }

    @Test func acksLateKeepsTheMessageUnackedWhileRunning() async throws {
        let gate = Gate()
        let h = try await WorkerHarness(tasks: registry(gate: gate))
        defer { Task { await h.close() } }
        // Checked while the body is held at the gate: it runs for as long as the test needs.
        let late = try await h.client.delay("t.late")
        try await waitUntil(timeout: .seconds(10)) { gate.entered == 1 }
        #expect(try await late.state() != .success)
        #expect(try await h.redis.send(RedisCommand("HLEN", "unacked")).int == 1, "still unacked mid-task")
        gate.open()
        #expect(try await late.get(timeout: .seconds(10)) == "late")
        try await waitUntil(timeout: .seconds(5)) { try await h.redis.send(RedisCommand("HLEN", "unacked")).int == 0 }
    }

    @Test func byDefaultTheMessageIsAckedWhenTheTaskStarts() async throws {
        let gate = Gate()
        let h = try await WorkerHarness(tasks: registry(gate: gate))
        defer { Task { await h.close() } }
        let early = try await h.client.delay("t.held")
        try await waitUntil(timeout: .seconds(10)) { gate.entered == 1 }
        // The ack goes out in the worker's next write batch, shortly after the start.
        try await waitUntil(timeout: .seconds(10)) { try await h.redis.send(RedisCommand("HLEN", "unacked")).int == 0 }
        #expect(try await h.redis.send(RedisCommand("LLEN", "celery")).int == 0)
        #expect(try await early.state() != .success, "acked at start by default, while it still runs")
        gate.open()
        #expect(try await early.get(timeout: .seconds(10)) == "held")
    }

    @Test func ignoreResultStoresNothingAndTrackStartedStoresStarted() async throws {
        let gate = Gate()
        let h = try await WorkerHarness(tasks: registry(gate: gate))
        defer { Task { await h.close() } }
        let silent = try await h.client.send("t.silent", options: TaskSendOptions(ignoreResult: true))
        let after = try await h.client.delay("demo.add", 1, 1)
        _ = try await after.get(timeout: .seconds(10))
        #expect(try await silent.meta() == nil)
        // STARTED is read while the body is held at the gate, so it cannot be SUCCESS yet.
        let tracked = try await h.client.delay("t.tracked")
        try await waitUntil(timeout: .seconds(10)) { gate.entered == 1 }
        // STARTED is stored before the body runs (through the write batch: poll for it).
        try await waitUntil(timeout: .seconds(10)) { try await tracked.meta()?.status == .started }
        let started = try #require(try await tracked.meta())
        #expect(started.status == .started)
        #expect(started.result["hostname"]?.stringValue == h.worker.settings.nodeName)
        gate.open()
        #expect(try await tracked.get(timeout: .seconds(15)) == "tracked")
    }

    @Test func timeLimitsFromTheMessageEndTasksAsCeleryRecordsThem() async throws {
        let h = try await WorkerHarness(tasks: registry())
        defer { Task { await h.close() } }
        let hard = try await h.client.send("t.stubborn", options: TaskSendOptions(timeLimit: 0.5)).wait(timeout: .seconds(10))
        #expect(hard.status == .failure)
        #expect(hard.exception?.type == "TimeLimitExceeded")
        // The body ignores cancellation and would return "too late" after 5 s: only the hard limit
        // can have ended it with this failure (no wall-clock bound: the test command loads both cores).
        #expect(hard.result != .string("too late"))
        let soft = try await h.client.send("demo.sleep", args: [5], options: TaskSendOptions(softTimeLimit: 0.3)).wait(timeout: .seconds(10))
        #expect(soft.status == .failure)
        #expect(soft.exception?.type == "SoftTimeLimitExceeded")
        let tidy = try await h.client.send("t.tidy", options: TaskSendOptions(softTimeLimit: 0.3)).get(timeout: .seconds(10))
        #expect(tidy == "cleaned up")
    }

    @Test func timeLimitCommandAndWorkerDefaultsApply() async throws {
        let h = try await WorkerHarness(tasks: registry(), nodeName: "w1@test") { $0.timeLimit = TimeLimit(hard: nil, soft: 0.3) }
        defer { Task { await h.close() } }
        let byDefault = try await h.client.delay("demo.sleep", 5).wait(timeout: .seconds(10))
        #expect(byDefault.exception?.type == "SoftTimeLimitExceeded")
        let control = try await h.control()
        defer { Task { await control.close() } }
        let reply = try await control.broadcast("time_limit", arguments: ["task_name": "t.stubborn", "hard": 0.4], timeout: .seconds(15), limit: 1)
        #expect(reply["w1@test"] == ["ok": "time limits set successfully"])
        let stubborn = try await h.client.delay("t.stubborn").wait(timeout: .seconds(10))
        #expect(stubborn.exception?.type == "TimeLimitExceeded")
    }
}
