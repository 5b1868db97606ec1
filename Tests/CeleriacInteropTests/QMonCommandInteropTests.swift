import Celeriac
import CeleriacTestSupport
import Foundation
import Logging
import CeleriacTestTags
import Testing

/// The real `qmon` binary against a real `qworker` and a real Python Celery 5.7 worker.
@Suite(.tags(.integration), .serialized, .timeLimit(.minutes(2))) struct QMonCommandInteropTests {
    /// Runs `qmon` to completion; returns its exit status and stdout+stderr.
    private static func qmon(_ h: InteropHarness, _ arguments: [String], timeout: Duration = .seconds(15)) async throws -> (status: Int32, output: String) {
        let p = try ChildProcess(
            "qmon-\(arguments.first ?? "")-\(UUID().uuidString.prefix(4))",
            executable: TestEnvironment.binDirectory.appendingPathComponent("qmon").path,
            arguments: arguments, environment: ["XDG_STATE_HOME": h.logs.path], logDirectory: h.logs)
        let status = await p.wait(timeout: timeout)
        return (status, p.output)
    }

    private static func logger() -> Logger {
        var logger = Logger(label: "interop-qmon")
        logger.logLevel = .warning
        return logger
    }

    /// Pings until `count` workers answer; returns their node names.
    private static func waitForWorkers(_ h: InteropHarness, count: Int, _ workers: [ChildProcess]) async throws -> [String] {
        let control = try await ControlClient.connect(url: h.server.url, logger: logger())
        defer { Task { await control.close() } }
        var nodes: [String] = []
        do {
            try await waitUntil(timeout: .seconds(20)) {
                nodes = Array(try await control.ping(timeout: .milliseconds(500)).keys).sorted()
                return nodes.count >= count
            }
        } catch {
            throw InteropFailure("workers never answered ping:\n" + workers.map(\.output).joined(separator: "\n---\n"))
        }
        return nodes
    }

    private static func sendToSwift(_ client: CeleriacClient, _ name: String, _ args: [JSONValue]) async throws -> AsyncResult {
        try await client.send(name, args: args, options: TaskSendOptions(queue: "swiftq"))
    }

    @Test func statusAndSnapshotShowBothWorkersAndATaskSentMeanwhile() async throws {
        let h = try InteropHarness()
        defer { h.close() }
        let swift = try h.startSwiftWorker(arguments: ["-E", "-Q", "swiftq", "-c", "2"])
        defer { swift.stopNow() }
        let python = try h.startPythonWorker()
        defer { python.stopNow() }
        _ = try await Self.waitForWorkers(h, count: 2, [swift, python])

        let status = try await Self.qmon(h, ["status", "--broker", h.server.urlString])
        #expect(status.status == 0, "\(status.output)")
        let lines = status.output.split(separator: "\n")
        #expect(lines.contains { $0.hasPrefix("swift@") && $0.contains(" online") }, "\(status.output)")
        #expect(lines.contains { $0.hasPrefix("py@") && $0.contains(" online") }, "\(status.output)")

        // The task is sent once the snapshot's event subscription exists (one more pattern
        // subscription on the server): a fixed second was once too short under load.
        let probe = try await RedisClient.connect(url: h.server.url, logger: .init(label: "probe"))
        defer { probe.close() }
        let patternsBefore = try await probe.send(RedisCommand("PUBSUB", "NUMPAT")).int ?? 0
        let snapshot = try ChildProcess(
            "qmon-snapshot", executable: TestEnvironment.binDirectory.appendingPathComponent("qmon").path,
            arguments: ["snapshot", "--json", "--listen", "6", "--broker", h.server.urlString], logDirectory: h.logs)
        try await waitUntil(timeout: .seconds(5)) { (try await probe.send(RedisCommand("PUBSUB", "NUMPAT")).int ?? 0) > patternsBefore }
        let client = try await h.client()
        defer { client.close() }
        let add = try await Self.sendToSwift(client, "demo.add", [2, 3])
        #expect(try await add.get(timeout: .seconds(10)) == .int(5))
        #expect(await snapshot.wait(timeout: .seconds(15)) == 0, "\(snapshot.output)")
        let jsonLine = try #require(snapshot.output.split(separator: "\n").first { $0.hasPrefix("{") }, "\(snapshot.output)")
        let document = try JSONParser.parse(String(jsonLine))
        let workers = try #require(document["workers"]?.arrayValue)
        let online = workers.filter { $0["online"] == .bool(true) }.compactMap { $0["hostname"]?.stringValue }
        #expect(online.contains { $0.hasPrefix("swift@") } && online.contains { $0.hasPrefix("py@") }, "\(workers)")
        let tasks = try #require(document["tasks"]?.arrayValue)
        let task = try #require(tasks.first { $0["uuid"] == .string(add.id) }, "\(tasks)")
        #expect(task["name"] == "demo.add")
        #expect(task["state"] == "SUCCESS")
        #expect(document["task_types"]?.arrayValue?.contains { $0["name"] == "demo.add" } == true)
        #expect(document["summary"]?["workers_online"] == .int(2))
        #expect(document["queues"]?.arrayValue?.contains { $0["name"] == "swiftq" } == true, "\(document["queues"] ?? nil)")
    }

    @Test func revokeTerminatesARunningTaskOnTheSwiftWorker() async throws {
        let h = try InteropHarness()
        defer { h.close() }
        let swift = try h.startSwiftWorker(arguments: ["-Q", "swiftq", "-c", "2"])
        defer { swift.stopNow() }
        let nodes = try await Self.waitForWorkers(h, count: 1, [swift])
        let client = try await h.client()
        defer { client.close() }
        let sleeper = try await Self.sendToSwift(client, "demo.sleep", [30])
        let control = try await ControlClient.connect(url: h.server.url, logger: Self.logger())
        try await waitUntil(timeout: .seconds(10)) {
            let active = try await control.inspect("active", destination: nodes)[nodes[0]]?.arrayValue ?? []
            return active.contains { $0["id"] == .string(sleeper.id) }
        }
        await control.close()

        let revoke = try await Self.qmon(h, ["revoke", sleeper.id, "--terminate", "--broker", h.server.urlString])
        #expect(revoke.status == 0, "\(revoke.output)")
        #expect(revoke.output.contains(nodes[0]) && revoke.output.contains(sleeper.id), "\(revoke.output)")
        let meta = try await sleeper.wait(timeout: .seconds(10))
        #expect(meta.status == .revoked, "\(swift.output)")
        let log = try String(contentsOfFile: h.logs.file("celeriac/qmon-actions.log"), encoding: .utf8)
        #expect(log.contains(" ok terminate task \(sleeper.id) (SIGTERM): "), "\(log)")
    }

    @Test func retryResendsAFailedTaskLinkedToTheOriginal() async throws {
        let h = try InteropHarness()
        defer { h.close() }
        // One slot, one prefetched message: while demo.sleep runs, the retry waits on the list or
        // reserved (unacked) by the worker, as Celery's QoS would hold it.
        let swift = try h.startSwiftWorker(arguments: ["-Q", "swiftq", "-c", "1", "--prefetch-multiplier", "1"])
        defer { swift.stopNow() }
        _ = try await Self.waitForWorkers(h, count: 1, [swift])
        let client = try await h.client()
        defer { client.close() }
        let flaky = try await Self.sendToSwift(client, "demo.flaky", ["k", 1])
        #expect(try await flaky.wait(timeout: .seconds(10)).status == .failure)

        let sleeper = try await Self.sendToSwift(client, "demo.sleep", [2])
        let redis = try await RedisClient.connect(url: h.server.url, logger: Self.logger())
        defer { redis.close() }
        try await waitUntil(timeout: .seconds(5)) {
            try await redis.send(RedisCommand("LLEN", "swiftq")).int == 0
        }
        let retry = try await Self.qmon(h, ["retry", flaky.id, "--broker", h.server.urlString])
        #expect(retry.status == 0, "\(retry.output)")
        let newID = retry.output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(newID.count == 36 && newID != flaky.id, "\(retry.output)")

        var held = (try await redis.send(RedisCommand("HVALS", "unacked")).array ?? []).compactMap { $0.bytes }
            .compactMap { try? UnackedEntry.decode($0).envelope }
        if let listed = try await redis.send(RedisCommand("LINDEX", "swiftq", -1)).bytes { held.append(listed) }
        let message = try #require(held.compactMap { try? TaskMessage.decode(bytes: $0) }.first { $0.id == newID }, "retry neither queued nor reserved")
        #expect(message.id == newID)
        #expect(message.extraHeaders[FailedTaskStore.retryOfHeader] == .string(flaky.id))

        #expect(try await sleeper.wait(timeout: .seconds(10)).status == .success)
        let meta = try await client.result(id: newID).wait(timeout: .seconds(10))
        #expect(meta.status == .success, "\(swift.output)")
    }

    @Test func backfillShowsStoredResultsAndEventsStreamsJSONLines() async throws {
        let h = try InteropHarness()
        defer { h.close() }
        let swift = try h.startSwiftWorker(arguments: ["-Q", "swiftq", "-c", "2"])
        defer { swift.stopNow() }
        _ = try await Self.waitForWorkers(h, count: 1, [swift])
        let client = try await h.client()
        defer { client.close() }
        let add = try await Self.sendToSwift(client, "demo.add", [20, 22])
        #expect(try await add.get(timeout: .seconds(10)) == .int(42))

        // Without -E no task event was sent: only the stored result tells qmon about the task.
        let snapshot = try await Self.qmon(h, ["snapshot", "--json", "--listen", "0.5", "--backfill", "100", "--broker", h.server.urlString])
        #expect(snapshot.status == 0, "\(snapshot.output)")
        let line = try #require(snapshot.output.split(separator: "\n").first { $0.hasPrefix("{") }, "\(snapshot.output)")
        let tasks = try #require(try JSONParser.parse(String(line))["tasks"]?.arrayValue)
        let task = try #require(tasks.first { $0["uuid"] == .string(add.id) }, "\(tasks)")
        #expect(task["state"] == "SUCCESS" && task["result"] == "42")

        // Worker heartbeats arrive every 2 s; the command stops after --count of them.
        let events = try await Self.qmon(h, ["events", "--count", "2", "--broker", h.server.urlString])
        #expect(events.status == 0, "\(events.output)")
        let lines = events.output.split(separator: "\n")
        #expect(lines.count == 2, "\(events.output)")
        for l in lines {
            let fields = try JSONParser.parse(String(l))
            #expect(fields["type"]?.stringValue?.hasPrefix("worker-") == true && fields["hostname"] != nil, "\(l)")
        }
    }

    @Test func purgeEmptiesAQueueAndRefusesWithoutYes() async throws {
        let h = try InteropHarness()
        defer { h.close() }
        let client = try await h.client()
        defer { client.close() }
        for i in 0..<5 { _ = try await client.send("demo.add", args: [.int(i), 1]) }
        _ = try await client.send("demo.add", args: [1, 1], options: TaskSendOptions(priority: 9))
        let redis = try await RedisClient.connect(url: h.server.url, logger: Self.logger())
        defer { redis.close() }

        let refused = try await Self.qmon(h, ["purge", "celery", "--broker", h.server.urlString])
        #expect(refused.status == 1, "\(refused.output)")
        #expect(try await redis.send(RedisCommand("LLEN", "celery")).int == 5)

        let purge = try await Self.qmon(h, ["purge", "celery", "--yes", "--broker", h.server.urlString])
        #expect(purge.status == 0, "\(purge.output)")
        #expect(purge.output.contains("removed 6 messages from celery"), "\(purge.output)")
        for list in QueueKeys.consumeOrder(queues: ["celery"]) {
            #expect(try await redis.send(RedisCommand("LLEN", list)).int == 0)
        }
    }

    @Test func unreachableRedisExitsTwoWithOneLine() async throws {
        let h = try InteropHarness()
        defer { h.close() }
        let port = try RedisServer.freeLoopbackPort()
        let result = try await Self.qmon(h, ["status", "--broker", "redis://127.0.0.1:\(port)/0"])
        #expect(result.status == 2)
        let lines = result.output.split(separator: "\n")
        #expect(lines.count == 1, "\(result.output)")
        #expect(lines.first?.hasPrefix("qmon: cannot reach Redis") == true, "\(result.output)")
    }

    @Test func wrongPasswordExitsTwoWithoutPrintingIt() async throws {
        let h = try InteropHarness()
        defer { h.close() }
        let server = try RedisServer.start(password: "right-secret")
        defer { server.stop() }
        let url = "redis://:wrong-secret@127.0.0.1:\(server.port!)/0"
        let result = try await Self.qmon(h, ["status", "--broker", url])
        #expect(result.status == 2, "\(result.output)")
        #expect(result.output.split(separator: "\n").count == 1, "\(result.output)")
        #expect(!result.output.contains("wrong-secret") && !result.output.contains("right-secret"), "\(result.output)")
        #expect(result.output.hasPrefix("qmon: "), "\(result.output)")
    }
}
