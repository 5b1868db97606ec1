import Celeriac
import CeleriacTestSupport
import Foundation
import CeleriacTestTags
import Logging
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
        var quiet = Logger(label: "control")
        quiet.logLevel = .warning
        let control = try await ControlClient.connect(url: h.server.url, logger: quiet)
        // The sleep is running (`inspect active` lists it, so a cold shutdown will find it) and
        // the add is held: both left the queue, only the add is still in `unacked` (the sleep
        // was acked as it started). `unacked` at 1 alone could also be the sleep reserved before
        // the add was even published.
        @Sendable func runningIsActive() async throws -> Bool {
            let active = try await control.broadcast("active", arguments: ControlClient.inspectArguments("active"),
                                                     timeout: .seconds(3), limit: 1).values.first?.arrayValue ?? []
            return active.contains { $0["id"] == .string(running.id) }
        }
        try await waitUntil(timeout: .seconds(20)) {
            guard try await runningIsActive() else { return false }
            let queued = try await probe.send(RedisCommand("LLEN", "celery")).int
            let unacked = try await probe.send(RedisCommand("HLEN", "unacked")).int
            return queued == 0 && unacked == 1
        }
        worker.signal(SIGINT)
        // Warm: the held message goes back at once, the running sleep is allowed to go on.
        try await waitUntil(timeout: .seconds(10)) { try await probe.send(RedisCommand("LLEN", "celery")).int == 1 }
        #expect(worker.isRunning, "a warm shutdown waits for the running task")
        // The first Ctrl-C was counted before the second is sent, so the two cannot arrive as one.
        try await waitUntil(timeout: .seconds(10)) { worker.output.contains("Ctrl+C again will initiate cold shutdown") }
        worker.signal(SIGINT)
        let status = await worker.wait(timeout: .seconds(10))
        #expect(status == 0, "\(worker.output)")
        // The warm shutdown had let the sleep run: the cold one found it running. (Control stops
        // answering once a warm shutdown begins, as Celery's does, so this is the proof.)
        #expect(worker.output.contains("cold shutdown: stopping 1 running task(s)"), "\(worker.output)")
        // Cold: the running task's message is back too; nothing is left in unacked.
        #expect(try await probe.send(RedisCommand("LLEN", "celery")).int == 2)
        #expect(try await probe.send(RedisCommand("HLEN", "unacked")).int == 0)
        #expect(try await running.state() == .pending)
        #expect(try await held.state() == .pending)
        let again = try h.startSwiftWorker(name: "again", arguments: ["-c", "2", "--without-mingle"])
        defer { again.stopNow() }
        #expect(try await held.get(timeout: .seconds(20)) == .int(4))
        await control.close()
    }
}
