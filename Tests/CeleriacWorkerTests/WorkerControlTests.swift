import Celeriac
import CeleriacDemoTasks
import CeleriacTestSupport
@testable import CeleriacWorker
import Foundation
import Logging
import CeleriacTestTags
import Testing

/// Remote control and events of an in-process worker, driven by the Swift control client and
/// event receiver over a real redis-server. (The same against Python's tools is in the interop suite.)
@Suite(.tags(.integration), .timeLimit(.minutes(2))) struct WorkerControlTests {
    private func only(_ replies: [String: JSONValue], _ node: String) throws -> JSONValue {
        #expect(replies.count == 1, "\(replies)")
        return try #require(replies[node], "no reply from \(node) in \(replies)")
    }

    @Test func answersPingAndInspectCommands() async throws {
        let h = try await WorkerHarness(nodeName: "w1@test")
        defer { Task { await h.close() } }
        let control = try await h.control()
        defer { Task { await control.close() } }
        #expect(try only(await control.broadcast("ping", timeout: .seconds(15), limit: 1), "w1@test") == ["ok": "pong"])
        let registered = try only(await control.broadcast("registered", timeout: .seconds(15), limit: 1), "w1@test")
        #expect(registered == .array(DemoTasks.registry.names.map(JSONValue.string)))
        _ = try await h.client.delay("demo.add", 1, 2).get(timeout: .seconds(10))
        let stats = try only(await control.broadcast("stats", timeout: .seconds(15), limit: 1), "w1@test")
        #expect(stats["total"]?["demo.add"] == .int(1))
        #expect(stats["pid"] == .int(Int(ProcessInfo.processInfo.processIdentifier)))
        #expect(stats["clock"]?.stringValue != nil, "stats.clock is a string, as Celery sends it")
        #expect(stats["pool"]?["max-concurrency"] == .int(4))
        #expect(stats["pool"]?["implementation"] == "celeriac.concurrency.async:AsyncPool", "the kind where Celery puts it")
        let queues = try only(await control.broadcast("active_queues", timeout: .seconds(15), limit: 1), "w1@test")
        #expect(queues.arrayValue?.first?["name"] == "celery")
        let unknown = try only(await control.broadcast("no_such_command", timeout: .seconds(15), limit: 1), "w1@test")
        #expect(unknown == ["error": "KeyError('no_such_command')"])
        let clock = try only(await control.broadcast("clock", timeout: .seconds(15), limit: 1), "w1@test")
        #expect((clock["clock"]?.intValue ?? 0) > 0)
    }

    /// With every queue cancelled the reservation loop waits for `add_consumer` (no poll: its
    /// wait is in place), then takes what was sent meanwhile.
    @Test func aWorkerWithEveryQueueCancelledWaitsForAddConsumerThenTakesMessages() async throws {
        let h = try await WorkerHarness(nodeName: "w1@test")
        defer { Task { await h.close() } }
        let control = try await h.control()
        defer { Task { await control.close() } }
        _ = try only(await control.broadcast("cancel_consumer", arguments: ["queue": "celery"], timeout: .seconds(15), limit: 1), "w1@test")
        try await waitUntil(timeout: .seconds(20)) { h.worker.queues.waiting == 1 }
        let sum = try await h.client.delay("demo.add", 2, 3)
        let added = try only(await control.broadcast("add_consumer", arguments: ["queue": "celery"], timeout: .seconds(15), limit: 1), "w1@test")
        #expect(added == ["ok": "add consumer celery"])
        #expect(try await sum.get(timeout: .seconds(20)) == .int(5))
        #expect(h.worker.queues.waiting == 0)
    }

    @Test func commandsForOtherNodesAreIgnored() async throws {
        let h = try await WorkerHarness(nodeName: "w1@test")
        defer { Task { await h.close() } }
        let control = try await h.control()
        defer { Task { await control.close() } }
        #expect(try await control.broadcast("ping", destination: ["someone@else"], timeout: .milliseconds(500)).isEmpty)
        #expect(try await control.broadcast("ping", destination: ["w1@test"], timeout: .seconds(15)).keys.sorted() == ["w1@test"])
    }

    @Test func revokeWithTerminateEndsARunningTask() async throws {
        let h = try await WorkerHarness(nodeName: "w1@test")
        defer { Task { await h.close() } }
        let control = try await h.control()
        defer { Task { await control.close() } }
        let sleeper = try await h.client.delay("demo.sleep", 30)
        try await waitUntil(timeout: .seconds(10)) {
            let active = try await control.broadcast("active", timeout: .seconds(5), limit: 1)
            return active["w1@test"]?.arrayValue?.first?["id"] == .string(sleeper.id)
        }
        let reply = try await control.broadcast("revoke", arguments: ["task_id": .string(sleeper.id), "terminate": true, "signal": "SIGTERM"],
                                                timeout: .seconds(15), limit: 1)
        #expect(reply["w1@test"] == ["ok": .string("terminate: \(sleeper.id)")])
        let meta = try await sleeper.wait(timeout: .seconds(10))
        #expect(meta.status == .revoked)
        #expect(meta.exception?.message == ["terminated"])
        let revoked = try await control.broadcast("revoked", timeout: .seconds(15), limit: 1)
        #expect(revoked["w1@test"] == .array([.string(sleeper.id)]))
    }

    @Test func revokedTasksAreNotRunAndPendingOnesAreMarkedRevoked() async throws {
        let h = try await WorkerHarness(nodeName: "w1@test")
        defer { Task { await h.close() } }
        let control = try await h.control()
        defer { Task { await control.close() } }
        var options = TaskSendOptions()
        // Due well after the checks below, however loaded the machine (at 1.5 s and at 8 s it
        // once ran before `inspect scheduled` and the revoke got through); the revoke marks it
        // REVOKED at once, so the test does not wait for it.
        options.countdown = 30
        let delayed = try await h.client.send("demo.add", args: [1, 2], options: options)
        try await waitUntil(timeout: .seconds(20)) {
            let scheduled = try await control.broadcast("scheduled", timeout: .seconds(5), limit: 1)
            return scheduled["w1@test"]?.arrayValue?.first?["request"]?["id"] == .string(delayed.id)
        }
        let reply = try await control.broadcast("revoke", arguments: ["task_id": .string(delayed.id)], timeout: .seconds(15), limit: 1)
        #expect(reply["w1@test"] == ["ok": .string("tasks {'\(delayed.id)'} flagged as revoked")])
        let meta = try await delayed.wait(timeout: .seconds(20))
        #expect(meta.status == .revoked)
        #expect(meta.exception?.message == ["revoked"])

        // An id no worker has seen is marked REVOKED in the backend at once (children null), as Celery 5.7 does.
        let stranger = UUID().uuidString.lowercased()
        _ = try await control.broadcast("revoke", arguments: ["task_id": .array([.string(stranger)])], timeout: .seconds(15), limit: 1)
        let stored = try #require(try await h.client.result(id: stranger).meta())
        #expect(stored.status == .revoked)
        #expect(stored.children == .null)
        // A message for it that arrives later is discarded, not run.
        let late = try await h.client.send("demo.add", args: [5, 5], options: TaskSendOptions(taskID: stranger))
        try await waitUntil(timeout: .seconds(5)) { try await h.llen("celery") == 0 }
        #expect(try await late.state() == .revoked)
    }

    @Test func publishesTaskEventsWhenEnabledAndHeartbeatsAlways() async throws {
        let server = try RedisServer.start()
        let receiver = try await EventReceiver.connect(url: server.url, logger: Logger(label: "test-events"))
        defer { receiver.close() }
        let h = try await WorkerHarness(server: server, nodeName: "w1@test") { $0.sendTaskEvents = true }
        defer { Task { await h.close() } }
        let r = try await h.client.delay("demo.add", 2, 3)
        _ = try await r.get(timeout: .seconds(10))
        var seen: [String] = []
        var heartbeat = false
        for await event in receiver.events {
            if event.task?.uuid == r.id { seen.append(event.type) }
            if event.type == "task-succeeded", event.task?.uuid == r.id {
                #expect(event.task?.result == "5")
                #expect((event.task?.runtime ?? -1) >= 0)
            }
            if event.type == "worker-heartbeat" && event.hostname == "w1@test" {
                heartbeat = true
                #expect(event.worker?.swIdent == "celeriac")
                #expect(event.worker?.freq == 2.0)
            }
            if heartbeat && seen.contains("task-succeeded") { break }
        }
        #expect(seen == ["task-received", "task-started", "task-succeeded"])
    }

    @Test func eventsCanBeSwitchedByControlCommands() async throws {
        let server = try RedisServer.start()
        let receiver = try await EventReceiver.connect(url: server.url, logger: Logger(label: "test-events"))
        defer { receiver.close() }
        let h = try await WorkerHarness(server: server, nodeName: "w1@test")
        defer { Task { await h.close() } }
        let control = try await h.control()
        defer { Task { await control.close() } }
        #expect(try await control.broadcast("enable_events", timeout: .seconds(15), limit: 1)["w1@test"] == ["ok": "task events enabled"])
        #expect(try await control.broadcast("enable_events", timeout: .seconds(15), limit: 1)["w1@test"] == ["ok": "task events already enabled"])
        let r = try await h.client.delay("demo.mul", 2, 3)
        _ = try await r.get(timeout: .seconds(10))
        for await event in receiver.events where event.type == "task-succeeded" && event.task?.uuid == r.id { break }
        #expect(try await control.broadcast("disable_events", timeout: .seconds(15), limit: 1)["w1@test"] == ["ok": "task events disabled"])
    }

    @Test func rateLimitCommandSlowsATaskType() async throws {
        let h = try await WorkerHarness(nodeName: "w1@test")
        defer { Task { await h.close() } }
        let control = try await h.control()
        defer { Task { await control.close() } }
        let reply = try await control.broadcast("rate_limit", arguments: ["task_name": "demo.add", "rate_limit": "2/s"], timeout: .seconds(15), limit: 1)
        #expect(reply["w1@test"] == ["ok": "new rate limit set successfully"])
        let registered = try await control.broadcast("registered", timeout: .seconds(15), limit: 1)
        #expect(registered["w1@test"]?.arrayValue?.contains("demo.add [rate_limit=2/s]") == true)
        let started = Date()
        var results: [AsyncResult] = []
        for i in 0..<5 { results.append(try await h.client.delay("demo.add", i, 1)) }
        for r in results { _ = try await r.get(timeout: .seconds(10)) }
        #expect(Date().timeIntervalSince(started) >= 1.8, "5 tasks at 2/s take about 2 s")
        let unknown = try await control.broadcast("rate_limit", arguments: ["task_name": "nope", "rate_limit": "1/s"], timeout: .seconds(15), limit: 1)
        #expect(unknown["w1@test"] == ["error": "unknown task"])
    }

    @Test func poolGrowAndConsumerChangesTakeEffect() async throws {
        let h = try await WorkerHarness(concurrency: 1, nodeName: "w1@test")
        defer { Task { await h.close() } }
        let control = try await h.control()
        defer { Task { await control.close() } }
        #expect(try await control.broadcast("pool_grow", arguments: ["n": 2], timeout: .seconds(15), limit: 1)["w1@test"] == ["ok": "pool will grow"])
        let stats = try await control.broadcast("stats", timeout: .seconds(15), limit: 1)
        #expect(stats["w1@test"]?["pool"]?["max-concurrency"] == .int(3))
        #expect(try await control.broadcast("add_consumer", arguments: ["queue": "extra"], timeout: .seconds(15), limit: 1)["w1@test"] == ["ok": "add consumer extra"])
        var options = TaskSendOptions()
        options.queue = "extra"
        #expect(try await h.client.send("demo.add", args: [20, 22], options: options).get(timeout: .seconds(10)) == .int(42))
    }

    @Test func shutdownCommandStopsTheWorker() async throws {
        let h = try await WorkerHarness(nodeName: "w1@test")
        defer { Task { await h.close() } }
        let control = try await h.control()
        defer { Task { await control.close() } }
        _ = try await control.broadcast("shutdown", reply: false)
        try await h.waitForExit(timeout: .seconds(10))
    }

    @Test func malformedControlMessagesAreIgnored() async throws {
        let h = try await WorkerHarness(nodeName: "w1@test")
        defer { Task { await h.close() } }
        _ = try await h.redis.send(RedisCommand("PUBLISH", ControlNames.broadcastChannel(db: 0), "not an envelope"))
        _ = try await h.redis.send(RedisCommand("PUBLISH", ControlNames.broadcastChannel(db: 0), #"{"body": "e30=", "content-type": "application/json", "headers": {}, "properties": {"body_encoding": "base64"}}"#))
        let control = try await h.control()
        defer { Task { await control.close() } }
        #expect(try await control.broadcast("ping", timeout: .seconds(15), limit: 1)["w1@test"] == ["ok": "pong"])
    }

    @Test func revokedIdsSurviveARestartWithStateDBAndReachNewWorkersThroughMingle() async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let statedb = dir.file("worker.state")
        let server = try RedisServer.start()
        let first = try await WorkerHarness(server: server, nodeName: "w1@test") { $0.stateDB = statedb }
        let control = try await first.control()
        defer { Task { await control.close() } }
        _ = try await control.broadcast("revoke", arguments: ["task_id": "dead-beef"], timeout: .seconds(15), limit: 1)
        // A second worker starting now learns the id from the first through `hello`.
        let second = try await WorkerHarness(server: server, nodeName: "w2@test") { $0.mingle = true }
        let fromMingle = try await control.broadcast("revoked", destination: ["w2@test"], timeout: .seconds(15))
        #expect(fromMingle["w2@test"] == ["dead-beef"])
        try await second.stopWorker()
        try await first.stopWorker()
        // The first worker's state file brings the id back after a restart.
        let again = try await WorkerHarness(server: server, nodeName: "w1@test") { $0.stateDB = statedb }
        defer { Task { await again.close() } }
        let restored = try await control.broadcast("revoked", destination: ["w1@test"], timeout: .seconds(15))
        #expect(restored["w1@test"] == ["dead-beef"])
    }
}
