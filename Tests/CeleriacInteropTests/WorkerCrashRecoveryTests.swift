import Celeriac
import CeleriacTestSupport
import Foundation
import CeleriacTestTags
import Testing

/// kill -9 of a worker mid-task loses nothing: with acks_late, what it held is restored by a live
/// worker within seconds (not kombu's one-hour visibility timeout) and runs again.
@Suite(.tags(.integration), .serialized, .timeLimit(.minutes(2))) struct WorkerCrashRecoveryTests {
    @Test func tasksHeldByAKilledWorkerRunAgainOnAnotherWithinSeconds() async throws {
        let h = try InteropHarness()
        defer { h.close() }
        let doomed = try h.startSwiftWorker(name: "doomed", arguments: ["--acks-late", "-c", "1", "--without-mingle"])
        let client = try await h.client()
        defer { client.close() }
        let probe = try await RedisClient.connect(url: h.server.url, logger: .init(label: "probe"))
        defer { probe.close() }
        // 5 s: the test must see both held while the sleeper runs, and a loaded integration
        // phase once polled past a 3 s window.
        let running = try await client.delay("demo.sleep", 5)
        let held = try await client.delay("demo.add", 1, 2)
        // The sleeper runs (acks_late: still unacked) and the add waits in the prefetch window.
        try await waitUntil(timeout: .seconds(20)) { try await probe.send(RedisCommand("HLEN", "unacked")).int == 2 }
        doomed.signal(SIGKILL)
        await doomed.wait()

        let survivor = try h.startSwiftWorker(name: "survivor", arguments: ["-c", "2", "--without-mingle"])
        defer { survivor.stopNow() }
        #expect(try await held.get(timeout: .seconds(20)) == .int(3), "\(survivor.output)")
        #expect(try await running.get(timeout: .seconds(20)) == .double(5))
        #expect(survivor.output.contains("restored 2 message(s)"), "\(survivor.output)")
        try await waitUntil(timeout: .seconds(5)) {
            let unacked = try await probe.send(RedisCommand("HLEN", "unacked")).int
            let owners = try await probe.send(RedisCommand("HLEN", "celeriac.unacked_owner")).int
            return unacked == 0 && owners == 0
        }
    }

    @Test func firstInterruptIsWarmAndASecondIsColdPuttingEveryMessageBack() async throws {
        let h = try InteropHarness()
        defer { h.close() }
        let worker = try h.startSwiftWorker(name: "stopper", arguments: ["-c", "1", "--without-mingle"])
        let client = try await h.client()
        defer { client.close() }
        let probe = try await RedisClient.connect(url: h.server.url, logger: .init(label: "probe"))
        defer { probe.close() }
        let running = try await client.delay("demo.sleep", 30)
        let held = try await client.delay("demo.add", 2, 2)
        try await waitUntil(timeout: .seconds(20)) { try await probe.send(RedisCommand("HLEN", "unacked")).int == 1 }
        try await Task.sleep(for: .milliseconds(300))
        worker.signal(SIGINT)
        // Warm: the held message goes back at once, the running sleep is allowed to go on.
        try await waitUntil(timeout: .seconds(10)) { try await probe.send(RedisCommand("LLEN", "celery")).int == 1 }
        #expect(worker.isRunning, "a warm shutdown waits for the running task")
        worker.signal(SIGINT)
        let status = await worker.wait(timeout: .seconds(10))
        #expect(status == 0, "\(worker.output)")
        // Cold: the running task's message is back too; nothing is left in unacked.
        #expect(try await probe.send(RedisCommand("LLEN", "celery")).int == 2)
        #expect(try await probe.send(RedisCommand("HLEN", "unacked")).int == 0)
        #expect(try await running.state() == .pending)
        #expect(try await held.state() == .pending)
        let again = try h.startSwiftWorker(name: "again", arguments: ["-c", "2", "--without-mingle"])
        defer { again.stopNow() }
        #expect(try await held.get(timeout: .seconds(20)) == .int(4))
    }
}
