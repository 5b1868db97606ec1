import Celeriac
import CeleriacDemoTasks
import CeleriacTestSupport
@testable import CeleriacWorker
import Foundation
import Logging
import Synchronization
import CeleriacTestTags
import Testing

@Suite(.tags(.integration), .timeLimit(.minutes(2))) struct WorkerTests {
    @Test func runsDemoTasksAndStoresResultsAClientCanGet() async throws {
        let h = try await WorkerHarness()
        defer { Task { await h.close() } }
        #expect(try await h.client.delay("demo.add", 2, 3).get(as: Int.self, timeout: .seconds(10)) == 5)
        #expect(try await h.client.delay("demo.mul", 6, 7).get(timeout: .seconds(10)) == .int(42))
        #expect(try await h.client.delay("demo.add", 0.5, 2).get(timeout: .seconds(10)) == .double(2.5))
        let nested: JSONValue = ["n": [1, 2.5, nil, true], "big": .bigInt("1180591620717411303427"), "s": "日本 😀"]
        #expect(try await h.client.send("demo.echo", args: [nested]).get(timeout: .seconds(10)) == nested)
        #expect(try await h.client.send("demo.add", kwargs: ["x": 1, "y": 2]).get(timeout: .seconds(10)) == .int(3))
        // The benchmark's no-op takes any arguments and returns None.
        #expect(try await h.client.send("demo.noop", args: [1, "x"], kwargs: ["k": 2]).get(timeout: .seconds(10)) == .null)
    }

    /// Celery's `broker_connection_retry_on_startup`: a worker started before its Redis waits for
    /// it (a log line per attempt) instead of exiting, and then works normally.
    @Test func aWorkerStartedBeforeItsRedisWaitsForIt() async throws {
        let server = try RedisServer.start()
        server.stop()
        var settings = WorkerSettings(brokerURL: server.url, resultBackendURL: server.url, nodeName: "early@test")
        settings.mingle = false
        let log = LogRecorder()
        let worker = Worker(settings: settings, tasks: DemoTasks.registry, logger: log.logger("test-early"))
        let running = Task { try await worker.run() }
        defer { running.cancel() }
        // The line is logged once an attempt failed and another is scheduled: from then on the
        // worker is waiting, not exiting (a worker that gave up would never log it).
        try await waitUntil(timeout: .seconds(30)) {
            worker.hasStopped || log.messages.contains { $0.hasPrefix("consumer: Cannot connect to ") && $0.contains("Trying again in") }
        }
        #expect(!worker.hasStopped, "still trying, not exited")
        #expect(!worker.isReady)
        try server.restart()
        defer { server.stop() }
        try await waitUntil(timeout: .seconds(30)) { worker.isReady || worker.hasStopped }
        #expect(worker.isReady)
        var config = CeleriacConfig()
        config.brokerURL = server.urlString
        let client = try await CeleriacClient.connect(config: config, logger: Logger(label: "test-early-client"))
        defer { client.close() }
        #expect(try await client.delay("demo.add", 2, 3).get(as: Int.self, timeout: .seconds(10)) == 5)
        worker.beginShutdown()
        try await running.value
    }

    @Test func sendManyPublishesABatchWhoseResultsAllArrive() async throws {
        let h = try await WorkerHarness()
        defer { Task { await h.close() } }
        var signatures = (0..<200).map { CeleriacClient.Signature("demo.add", args: [.int($0), .int(1)]) }
        var other = TaskSendOptions()
        other.queue = "elsewhere"
        signatures.append(CeleriacClient.Signature("demo.add", args: [1, 1], options: other))
        let results = try await h.client.sendMany(signatures)
        #expect(results.count == 201)
        #expect(Set(results.map(\.id)).count == 201, "every message gets its own id")
        #expect(try await h.llen("elsewhere") == 1, "each message goes to its own queue")
        for (i, result) in results.prefix(200).enumerated() {
            #expect(try await result.get(as: Int.self, timeout: .seconds(20)) == i + 1)
        }
    }

    @Test func failureStoresTheExceptionAndTraceback() async throws {
        let h = try await WorkerHarness()
        defer { Task { await h.close() } }
        let meta = try await h.client.delay("demo.fail", "boom: bad value").wait(timeout: .seconds(10))
        #expect(meta.status == .failure)
        #expect(meta.exception == ExceptionInfo(type: "ValueError", message: ["boom: bad value"], module: "builtins"))
        #expect(meta.traceback?.contains("ValueError: boom: bad value") == true)
        await #expect(throws: TaskFailedError.self) { try await h.client.delay("demo.fail", "x").get(timeout: .seconds(10)) }
    }

    @Test func unregisteredTaskIsMarkedNotRegisteredAndRemovedFromTheQueue() async throws {
        let h = try await WorkerHarness()
        defer { Task { await h.close() } }
        let meta = try await h.client.delay("nope.unknown", 1).wait(timeout: .seconds(10))
        #expect(meta.status == .failure)
        #expect(meta.exception?.type == "NotRegistered")
        #expect(meta.exception?.module == "celery.exceptions")
        #expect(meta.exception?.message == ["nope.unknown"])
        #expect(meta.traceback == nil)
        #expect(try await h.llen("celery") == 0)
        #expect(try await h.redis.send(RedisCommand("HLEN", "unacked")).int == 0)
    }

    @Test func undecodableMessagesGoToTheDeadLetterListAndTheWorkerCarriesOn() async throws {
        let h = try await WorkerHarness()
        defer { Task { await h.close() } }
        let garbage: [[UInt8]] = [
            Array("not json at all".utf8),
            Array(#"{"body": "!!!notbase64", "content-encoding": "utf-8", "content-type": "application/json", "headers": {"task": "demo.add", "id": "x"}, "properties": {"body_encoding": "base64", "delivery_tag": "t1"}}"#.utf8),
            Array(#"{"body": "W10=", "content-encoding": "utf-8", "content-type": "application/json", "headers": {}, "properties": {"body_encoding": "base64", "delivery_tag": "t2"}}"#.utf8),
        ]
        for g in garbage { _ = try await h.redis.send(RedisCommand("LPUSH", "celery", g)) }
        #expect(try await h.client.delay("demo.add", 1, 1).get(timeout: .seconds(10)) == .int(2))
        try await waitUntil(timeout: .seconds(5)) { try await h.llen(DeadLetter.listKey) == 3 }
        let records = try await h.redis.send(RedisCommand("LRANGE", DeadLetter.listKey, 0, -1)).array ?? []
        for record in records {
            let letter = try DeadLetter.decode(record.bytes ?? [])
            #expect(!letter.reason.isEmpty)
            #expect(letter.queue == "celery")
        }
        let first = try DeadLetter.decode(records.last?.bytes ?? [])
        #expect(first.message == "not json at all")
        // Envelopes with a delivery tag were recorded as unacked by the pop; dead-lettering
        // forgets them too, or a restore would bring them back.
        #expect(try await h.redis.send(RedisCommand("HLEN", "unacked")).int == 0)
        #expect(try await h.redis.send(RedisCommand("HLEN", "celeriac.unacked_owner")).int == 0)
    }

    /// Celery refuses a task body that is not UTF-8; running it with U+FFFD in its arguments
    /// changed the caller's data. It is dead-lettered with the reason, and no result is stored.
    @Test func aTaskWhoseArgumentsAreNotUTF8IsDeadLetteredWithTheReason() async throws {
        let h = try await WorkerHarness()
        defer { Task { await h.close() } }
        var n = 0
        let m = TaskMessage.make(name: "demo.echo", args: ["x"], origin: "gen1@test", now: Date()) {
            n += 1
            return "00000000-0000-4000-8000-00000000000\(n)"
        }
        let body = Array(#"[["caf"#.utf8) + [0xE9] + Array(#""], {}, {}]"#.utf8)  // Latin-1, not UTF-8
        let raw = KombuEnvelope(body: body, headers: m.headers, properties: m.properties).encoded()
        _ = try await h.redis.send(RedisCommand("LPUSH", "celery", raw))
        try await waitUntil(timeout: .seconds(10)) { try await h.llen(DeadLetter.listKey) == 1 }
        let record = try await h.redis.send(RedisCommand("LINDEX", DeadLetter.listKey, 0)).bytes ?? []
        let letter = try DeadLetter.decode(record)
        #expect(letter.reason.contains("invalid UTF-8 in string"), "\(letter.reason)")
        #expect(try await h.client.delay("demo.add", 1, 1).get(timeout: .seconds(10)) == .int(2), "the worker carries on")
        #expect(try await h.redis.send(RedisCommand("EXISTS", "celery-task-meta-" + m.id)).int == 0)
        #expect(try await h.redis.send(RedisCommand("HLEN", "unacked")).int == 0)
    }

    @Test func honoursPriorityListsAndSeveralQueues() async throws {
        let h = try await WorkerHarness(queues: ["celery", "other"])
        defer { Task { await h.close() } }
        var options = TaskSendOptions()
        options.priority = 9
        options.queue = "other"
        let low = try await h.client.send("demo.add", args: [1, 2], options: options)
        options.priority = 5
        let mid = try await h.client.send("demo.add", args: [3, 4], options: options)
        #expect(try await low.get(timeout: .seconds(10)) == .int(3))
        #expect(try await mid.get(timeout: .seconds(10)) == .int(7))
    }

    @Test func expiredTasksAreRevokedNotRun() async throws {
        let h = try await WorkerHarness()
        defer { Task { await h.close() } }
        var options = TaskSendOptions()
        options.expires = Date().addingTimeInterval(-5)
        let meta = try await h.client.send("demo.add", args: [1, 2], options: options).wait(timeout: .seconds(10))
        #expect(meta.status == .revoked)
        #expect(meta.exception?.type == "TaskRevokedError")
        #expect(meta.exception?.message == ["expired"])
    }

    @Test func countdownTasksRunAfterTheirETA() async throws {
        let h = try await WorkerHarness()
        defer { Task { await h.close() } }
        var options = TaskSendOptions()
        options.countdown = 1.0
        let sent = Date()
        #expect(try await h.client.send("demo.add", args: [1, 2], options: options).get(timeout: .seconds(10)) == .int(3))
        #expect(Date().timeIntervalSince(sent) >= 0.95)
    }

    @Test func acknowledgedMessagesLeaveNoUnackedBookkeeping() async throws {
        let h = try await WorkerHarness()
        defer { Task { await h.close() } }
        var results: [AsyncResult] = []
        for i in 0..<50 { results.append(try await h.client.delay("demo.add", i, i)) }
        for (i, r) in results.enumerated() { #expect(try await r.get(timeout: .seconds(20)) == .int(2 * i)) }
        try await waitUntil(timeout: .seconds(5)) {
            try await h.redis.send(RedisCommand("ZCARD", "unacked_index")).int == 0
        }
        #expect(try await h.redis.send(RedisCommand("HLEN", "unacked")).int == 0)
        // Messages an idle worker took by BRPOP are recorded through the write queue, which
        // must send each record before its ack: a record after the ack would stay behind.
        #expect(try await h.redis.send(RedisCommand("HLEN", "celeriac.unacked_owner")).int == 0)
    }

    /// Calls of one command since the last `CONFIG RESETSTAT`.
    private func calls(_ command: String, _ h: WorkerHarness) async throws -> Int {
        CommandStats(info: try await h.redis.send(RedisCommand("INFO", "commandstats")).string ?? "").calls[command] ?? 0
    }

    @Test func anIdleWorkerTakesSingleMessagesByBlockingPopAndABacklogInBatches() async throws {
        let h = try await WorkerHarness()
        defer { Task { await h.close() } }
        #expect(try await h.client.delay("demo.add", 0, 0).get(timeout: .seconds(20)) == .int(0))
        _ = try await h.redis.send(RedisCommand("CONFIG", "RESETSTAT"))
        // One message at a time, each to an idle worker: no empty script run beside each one.
        for i in 1...20 {
            #expect(try await h.client.delay("demo.add", i, i).get(timeout: .seconds(20)) == .int(2 * i))
        }
        #expect(try await calls("brpop", h) >= 20)
        let scripts = try await calls("eval", h)
        // One when the streak of 16 ends, and one may come before it starts (if the warm-up
        // message was taken by the script); without the streak there is one per message.
        #expect(ReservationWindow.blockingPopStreak == 16)
        #expect(scripts <= 2, "\(scripts) script runs for 20 single messages")

        // A backlog that appears at once goes back to the script's batches after the streak.
        var later = TaskSendOptions()
        later.queue = "staging"
        let backlog = try await h.client.sendMany(
            (0..<600).map { CeleriacClient.Signature("demo.add", args: [.int($0), 1], options: later) },
            subscribingResults: false)
        _ = try await h.redis.send(RedisCommand("CONFIG", "RESETSTAT"))
        _ = try await h.redis.send(RedisCommand("RENAME", "staging", "celery"))
        for (i, result) in backlog.enumerated() {
            #expect(try await result.get(timeout: .seconds(30)) == .int(i + 1))
        }
        // Idle pops time out every second after the drain, hence the margin; without the
        // streak's end every message would be a pop of its own and the script would not run.
        let pops = try await calls("brpop", h)
        #expect(pops < 100, "\(pops) single pops for a backlog of 600")
        #expect(try await calls("eval", h) >= 10)
    }

    /// With `acks_late` a message must never be off its list unrecorded, even for a moment: an
    /// idle worker waits with `BLMOVE q q` (which takes nothing) and takes with the script, so a
    /// worker that dies at any instant leaves every message it took recorded as held.
    @Test func anIdleAcksLateWorkerOnOneQueueNeverTakesAMessageByBlockingPop() async throws {
        let h = try await WorkerHarness { $0.acksLate = true }
        defer { Task { await h.close() } }
        #expect(try await h.client.delay("demo.add", 0, 0).get(timeout: .seconds(20)) == .int(0))
        _ = try await h.redis.send(RedisCommand("CONFIG", "RESETSTAT"))
        for i in 1...20 {
            #expect(try await h.client.delay("demo.add", i, i).get(timeout: .seconds(20)) == .int(2 * i))
        }
        #expect(try await calls("brpop", h) == 0)
        #expect(try await calls("blmove", h) >= 20)
        #expect(try await calls("eval", h) >= 20)
        // A priority message sits on another list, which the wait does not watch: the script
        // after the wait's timeout takes it.
        var urgent = TaskSendOptions()
        urgent.priority = 9
        #expect(try await h.client.send("demo.add", args: [40, 2], options: urgent).get(timeout: .seconds(20)) == .int(42))
    }

    @Test func concurrencyBoundsTasksRunningAtOnce() async throws {
        // Count tasks running at once from inside the tasks: exact, whatever the machine's load.
        let gauge = ConcurrencyGauge()
        var tasks = DemoTasks.registry
        tasks.register("t.probe", parameters: []) { () -> Int in
            gauge.enter()
            defer { gauge.leave() }
            // Held until two have run at once, so the overlap does not depend on how fast the
            // machine is; with one slot (broken) each ends after the wait and the maximum is 1.
            try? await waitUntil(timeout: .seconds(10)) { gauge.maximum >= 2 }
            return 1
        }
        let h = try await WorkerHarness(concurrency: 2, prefetchMultiplier: 1, tasks: tasks)
        defer { Task { await h.close() } }
        var results: [AsyncResult] = []
        for _ in 0..<6 { results.append(try await h.client.delay("t.probe")) }
        for r in results { _ = try await r.get(timeout: .seconds(20)) }
        #expect(gauge.maximum == 2, "2 slots: tasks overlap, and never more than 2 run at once")
    }

    /// The prefetch window is a queue: with one slot, messages start in the order they were
    /// taken, whether the reservation script took them as a batch or BRPOP one by one.
    @Test func withOneSlotMessagesStartInTheOrderTheyArrived() async throws {
        let log = StartLog()
        var tasks = DemoTasks.registry
        tasks.register("t.ordered", parameters: ["n"]) { (n: Int) -> Int in
            log.started(n)
            return n
        }
        let h = try await WorkerHarness(concurrency: 1, prefetchMultiplier: 16, tasks: tasks)
        defer { Task { await h.close() } }
        let results = try await h.client.sendMany((0..<40).map { CeleriacClient.Signature("t.ordered", args: [.int($0)]) })
        for r in results { _ = try await r.get(timeout: .seconds(20)) }
        #expect(log.order == Array(0..<40))
    }

    @Test func warmShutdownFinishesRunningTasksAndRestoresHeldOnes() async throws {
        let h = try await WorkerHarness(concurrency: 1, prefetchMultiplier: 4)
        defer { Task { await h.close() } }
        // Long enough that the shutdown surely begins while it runs, however loaded the machine:
        // if it ended first, the held tasks would run instead of going back.
        let running = try await h.client.delay("demo.sleep", 4.0)
        var waiting: [AsyncResult] = []
        for i in 0..<3 { waiting.append(try await h.client.delay("demo.add", i, 1)) }
        try await waitUntil(timeout: .seconds(5)) { try await h.redis.send(RedisCommand("HLEN", "unacked")).int == 3 }
        try await h.stopWorker()
        #expect(try await running.get(timeout: .seconds(10)) == .double(4.0))
        #expect(try await h.llen("celery") == 3)
        #expect(try await h.redis.send(RedisCommand("HLEN", "unacked")).int == 0)
        let restored = try #require(try await h.redis.send(RedisCommand("LINDEX", "celery", -1)).bytes)
        let envelope = try KombuEnvelope.decode(restored)
        #expect(envelope.headers["redelivered"] == .bool(true))
        for r in waiting { #expect(try await r.state() == .pending) }
    }

    @Test func survivesARedisRestartWithoutLosingTasks() async throws {
        let h = try await WorkerHarness()
        defer { Task { await h.close() } }
        #expect(try await h.client.delay("demo.add", 1, 1).get(timeout: .seconds(10)) == .int(2))
        try h.server.restart()
        // The client's own connections reconnect too; send after the outage and expect the worker to pick it up.
        var result: JSONValue?
        let deadline = Date().addingTimeInterval(20)
        while result == nil && Date() < deadline {
            do { result = try await h.client.delay("demo.add", 20, 22).get(timeout: .seconds(5)) } catch { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(result == .int(42))
    }
}

@Suite(.tags(.integration), .timeLimit(.minutes(2))) struct FailedTaskRetryTests {
    @Test func aFailedTaskIsKeptAndRetriedExactlyAsANewLinkedTask() async throws {
        let h = try await WorkerHarness()
        defer { Task { await h.close() } }
        let first = try await h.client.send("demo.flaky", kwargs: ["key": "retry-me", "failures": 1])
        let failed = try await first.wait(timeout: .seconds(10))
        #expect(failed.status == .failure)
        let kept = try #require(try await h.redis.send(RedisCommand("GET", FailedTaskStore.messageKey(taskID: first.id))).bytes)
        #expect(try TaskMessage.decode(bytes: kept).id == first.id)
        #expect((try await h.redis.send(RedisCommand("TTL", FailedTaskStore.messageKey(taskID: first.id))).int ?? 0) > 0)
        #expect(try await h.redis.send(RedisCommand("ZSCORE", FailedTaskStore.indexKey, first.id)).bytes != nil)

        let newID = try await FailedTaskStore.retry(taskID: first.id, broker: h.client.broker, backend: nil, origin: "test@retry")
        #expect(newID != first.id)
        let retried = try await h.client.result(id: newID).get(timeout: .seconds(10))
        #expect(retried == .int(2), "the retry ran with the original kwargs and succeeded on the flaky task's second call")
        #expect(try await h.redis.send(RedisCommand("GET", FailedTaskStore.retriedAsKey(taskID: first.id))).string == newID)
    }

    @Test func retryWithoutAKeptMessageOrExtendedResultSaysWhy() async throws {
        let h = try await WorkerHarness()
        defer { Task { await h.close() } }
        await #expect { try await FailedTaskStore.retry(taskID: "never-seen", broker: h.client.broker, backend: nil, origin: "t") } throws: { e in
            "\(e)".contains("result_extended")
        }
    }
}

/// Tracks how many probe tasks run at once and the most seen.
/// The order task bodies started in, recorded from inside them.
final class StartLog: Sendable {
    private let list = Mutex<[Int]>([])
    func started(_ n: Int) { list.withLock { $0.append(n) } }
    var order: [Int] { list.withLock { $0 } }
}

final class ConcurrencyGauge: Sendable {
    private let state = Mutex((current: 0, maximum: 0))
    func enter() { state.withLock { $0.current += 1; $0.maximum = max($0.maximum, $0.current) } }
    func leave() { state.withLock { $0.current -= 1 } }
    var maximum: Int { state.withLock { $0.maximum } }
}
