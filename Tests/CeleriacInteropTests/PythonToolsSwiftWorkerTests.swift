import Celeriac
import CeleriacTestSupport
import Foundation
import CeleriacTestTags
import Testing

/// Celery's own tools — `celery inspect`, `celery control`, `celery events`, Flower 2.2 — see and
/// steer a Swift worker as they would a Python one.
@Suite(.tags(.integration), .serialized, .timeLimit(.minutes(4))) struct PythonToolsSwiftWorkerTests {
    private static let host = ProcessInfo.processInfo.hostName

    /// The JSON object `celery inspect … --json` printed (its last line that parses as one).
    private func inspectJSON(_ output: String) throws -> JSONValue {
        for line in output.split(separator: "\n").reversed() where line.hasPrefix("{") {
            if let value = try? JSONParser.parse(String(line)) { return value }
        }
        throw InteropFailure("no JSON in celery output:\n\(output)")
    }

    @Test func celeryInspectListsTheSwiftWorker() async throws {
        let h = try InteropHarness()
        defer { h.close() }
        let worker = try h.startSwiftWorker(name: "swift", arguments: ["-c", "2", "--without-mingle"])
        defer { worker.stopNow() }
        let node = "swift@\(Self.host)"
        let client = try await h.client()
        defer { client.close() }
        _ = try await client.delay("demo.add", 1, 1).get(timeout: .seconds(20))

        let ping = try inspectJSON(try await h.celery(["inspect", "ping", "--json", "-t", "3"]))
        #expect(ping[node] == ["ok": "pong"], "\(ping)\n\(worker.output)")

        let registered = try inspectJSON(try await h.celery(["inspect", "registered", "--json", "-t", "3"]))
        #expect(registered[node] == ["demo.add", "demo.crash", "demo.echo", "demo.fail", "demo.flaky", "demo.log_error", "demo.mul", "demo.noop", "demo.on_error", "demo.replaced_by_mul", "demo.sleep", "demo.spin", "demo.tsum"])

        let stats = try inspectJSON(try await h.celery(["inspect", "stats", "--json", "-t", "3"]))
        #expect(stats[node]?["total"]?["demo.add"] == .int(1))
        #expect(stats[node]?["pool"]?["max-concurrency"] == .int(2))

        let sleeper = try await client.delay("demo.sleep", 30)
        try await waitUntil(timeout: .seconds(20)) {
            let active = try self.inspectJSON(try await h.celery(["inspect", "active", "--json", "-t", "3"]))
            return active[node]?.arrayValue?.first?["id"] == .string(sleeper.id)
        }
        let active = try inspectJSON(try await h.celery(["inspect", "active", "--json", "-t", "3"]))
        let request = try #require(active[node]?.arrayValue?.first)
        #expect(request["name"] == "demo.sleep")
        #expect(request["args"] == [30])
        #expect(request["hostname"] == .string(node))

        // `celery control terminate` (the CLI's revoke-with-terminate) stops the running sleep; the result is REVOKED.
        let output = try await h.celery(["control", "terminate", "SIGTERM", sleeper.id, "-t", "3"])
        #expect(output.contains("terminate: \(sleeper.id)"), "\(output)")
        let meta = try await sleeper.wait(timeout: .seconds(15))
        #expect(meta.status == .revoked)
        #expect(meta.exception?.message == ["terminated"])

        // A plain `celery control revoke` flags an id; the worker lists it as revoked.
        let flagged = try await h.celery(["control", "revoke", "some-task-id", "-t", "3"])
        #expect(flagged.contains("flagged as revoked"), "\(flagged)")
        let revoked = try inspectJSON(try await h.celery(["inspect", "revoked", "--json", "-t", "3"]))
        #expect(revoked[node]?.arrayValue?.contains("some-task-id") == true)
    }

    @Test func celeryEventsDumpShowsSwiftHeartbeatsAndTaskEvents() async throws {
        let h = try InteropHarness()
        defer { h.close() }
        let dump = try h.startCelery("events-dump", ["events", "--dump"])
        defer { dump.stopNow() }
        // Let the dumper subscribe (its PSUBSCRIBE shows in PUBSUB NUMPAT) before anything happens.
        let probe = try await RedisClient.connect(url: h.server.url, logger: .init(label: "probe"))
        defer { probe.close() }
        try await waitUntil(timeout: .seconds(30)) { (try await probe.send(RedisCommand("PUBSUB", "NUMPAT")).int ?? 0) >= 1 }
        let worker = try h.startSwiftWorker(name: "swift", arguments: ["-E", "--without-mingle"])
        defer { worker.stopNow() }
        let client = try await h.client()
        defer { client.close() }
        let r = try await client.delay("demo.add", 20, 22)
        #expect(try await r.get(timeout: .seconds(20)) == .int(42))
        try await waitUntil(timeout: .seconds(15)) {
            dump.output.contains("task succeeded") && dump.output.contains("heartbeat")
        }
        let out = dump.output
        #expect(out.contains("swift@\(Self.host)"), "\(out)")
        #expect(out.contains(r.id))
        #expect(out.contains("task received"))
        #expect(out.contains("task started"))
    }

    @Test func flowerListsTheSwiftWorkerAndItsTasks() async throws {
        let h = try InteropHarness()
        defer { h.close() }
        let port = try RedisServer.freeLoopbackPort()
        let flower = try h.startCelery("flower", ["flower", "--address=127.0.0.1", "--port=\(port)"],
                                       environment: ["FLOWER_UNAUTHENTICATED_API": "true"])
        defer { flower.stopNow() }
        let worker = try h.startSwiftWorker(name: "swift", arguments: ["-E", "--without-mingle"])
        defer { worker.stopNow() }
        let client = try await h.client()
        defer { client.close() }
        let node = "swift@\(Self.host)"
        let api = "http://127.0.0.1:\(port)/api"
        try await waitUntil(timeout: .seconds(40)) {
            let workers = try? await h.runPython("pyhttp.py", ["\(api)/workers?refresh=1"], timeout: .seconds(20))
            return workers?.first?[node] != nil
        }
        let ok = try await client.delay("demo.add", 2, 3)
        _ = try await ok.get(timeout: .seconds(20))
        let bad = try await client.delay("demo.fail", "shown in flower")
        _ = try await bad.wait(timeout: .seconds(20))
        try await waitUntil(timeout: .seconds(20)) {
            let tasks = try await h.runPython("pyhttp.py", ["\(api)/tasks"], timeout: .seconds(20)).first
            return tasks?[ok.id]?["state"] == "SUCCESS" && tasks?[bad.id]?["state"] == "FAILURE"
        }
        let tasks = try #require(try await h.runPython("pyhttp.py", ["\(api)/tasks"]).first)
        #expect(tasks[ok.id]?["worker"] == .string(node))
        #expect((tasks[ok.id]?["runtime"]?.doubleValue ?? -1) >= 0)
        #expect(tasks[bad.id]?["exception"]?.stringValue?.contains("shown in flower") == true)
        let workers = try #require(try await h.runPython("pyhttp.py", ["\(api)/workers?refresh=1"]).first)
        #expect(workers[node]?["stats"]?["pool"]?["max-concurrency"] != nil, "\(workers)")
        let online = try #require(try await h.runPython("pyhttp.py", ["\(api)/workers?status=1"]).first)
        #expect(online[node] == .bool(true), "\(online)")
    }
}
