import Celeriac
import CeleriacTestSupport
import Foundation
import CeleriacTestTags
import Testing

/// A Swift client sends to a real Python Celery 5.7 worker and reads its results.
@Suite(.tags(.integration), .serialized, .timeLimit(.minutes(3))) struct SwiftClientPythonWorkerTests {
    @Test func swiftClientReadsResultsFromAPythonWorker() async throws {
        let h = try InteropHarness()
        defer { h.close() }
        let worker = try h.startPythonWorker()
        defer { worker.stopNow() }
        let client = try await h.client()
        defer { client.close() }

        // The first get waits through the Python worker's start-up.
        #expect(try await client.delay("demo.add", 2, 3).get(as: Int.self, timeout: .seconds(60)) == 5, "\(worker.output)")
        let value: JSONValue = ["list": [1, 2.0, "é"], "big": .bigInt("1180591620717411303427"), "f": 0.15000000000000002, "none": nil]
        #expect(try await client.send("demo.echo", args: [value]).get(timeout: .seconds(20)) == value)
        // The benchmark's no-op takes any arguments and returns None on both sides.
        #expect(try await client.send("demo.noop", args: [1, "x"], kwargs: ["k": 2]).get(timeout: .seconds(20)) == .null)

        var options = TaskSendOptions()
        options.priority = 9
        options.countdown = 0.5
        #expect(try await client.send("demo.mul", args: [6, 7], options: options).get(timeout: .seconds(20)) == .int(42))

        let failure = try await client.delay("demo.fail", "from swift").wait(timeout: .seconds(20))
        #expect(failure.status == .failure)
        #expect(failure.exception?.type == "ValueError")
        #expect(failure.exception?.message == ["from swift"])
        #expect(failure.traceback?.contains("Traceback") == true)

        // Results the Python side reads too: ids sent from Swift, fetched by Python's AsyncResult.
        let r = try await client.delay("demo.add", 40, 2)
        _ = try await r.get(timeout: .seconds(20))
        let lines = try await h.runPython("pyclient.py", ["get", r.id])
        #expect(lines.first?["result"] == .int(42))
    }

    @Test func aSwiftMessageRestoredByKombuIsStillValid() async throws {
        let h = try InteropHarness()
        defer { h.close() }
        // A Swift worker with one slot busy holds the next message in `unacked`, then dies hard.
        let swift = try h.startSwiftWorker(arguments: ["-c", "1"])
        let client = try await h.client()
        defer { client.close() }
        let blocker = try await client.delay("demo.sleep", 30)
        let held = try await client.delay("demo.add", 20, 22)
        let probe = try await RedisClient.connect(url: h.server.url, logger: .init(label: "probe"))
        defer { probe.close() }
        try await waitUntil(timeout: .seconds(20)) { try await probe.send(RedisCommand("HLEN", "unacked")).int == 1 }
        swift.signal(SIGKILL)
        await swift.wait()
        _ = blocker

        // kombu's own restore (what any Python process does after the visibility timeout).
        let restored = try await h.runPython("pyrestore.py", [])
        #expect(restored.first == .int(1))
        let raw = try #require(try await probe.send(RedisCommand("LINDEX", "celery", -1)).bytes)
        let message = try TaskMessage.decode(bytes: raw)
        #expect(message.id == held.id)
        #expect(message.redelivered)

        // A Python worker runs the restored Swift message.
        let python = try h.startPythonWorker()
        defer { python.stopNow() }
        #expect(try await held.get(timeout: .seconds(60)) == .int(42), "\(python.output)")
    }
}
