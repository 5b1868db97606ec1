import Celeriac
import CeleriacTestSupport
import Foundation
import Testing

extension FaultSuite {
    /// Redis at `maxmemory` (`noeviction`) for 10 s under load: it refuses every write that
    /// needs memory (a result's `SETEX`) and takes the ones that free it (an ack's `ZREM`/`HDEL`).
    /// The workers keep what they cannot write, ack nothing before its result is stored, take
    /// no new messages meanwhile, say so once, and store everything once Redis takes writes again.
    /// Before, 2,687 of 4,000 results were lost and the workers ran on at full pace.
    @Suite(.timeLimit(.minutes(5))) struct RedisRefusesWrites {
        @Test func redisOutOfMemoryForTenSecondsLosesNothing() async throws {
            let run = try await FaultRun(.redisRefusesWrites)
            defer { run.close() }
            let workers = [try run.startWorker("early", ["-c", "8"]), try run.startWorker("late", ["-c", "8", "--acks-late"])]
            for worker in workers { try await run.waitReady(worker) }
            try await run.send(FaultRun.sleeps(4000, seconds: 0.02))
            try await run.waitFinished(atLeast: 300)

            let used = try await usedMemory(run)
            _ = try await run.probe.send(RedisCommand("CONFIG", "SET", "maxmemory", used / 2))
            let queuedAtStart = try await run.probe.send(RedisCommand("LLEN", "celery")).int ?? 0
            try await Task.sleep(for: .seconds(10))
            let queuedAtEnd = try await run.probe.send(RedisCommand("LLEN", "celery")).int ?? 0
            _ = try await run.probe.send(RedisCommand("CONFIG", "SET", "maxmemory", 0))

            try await run.settle()
            let taken = queuedAtStart - queuedAtEnd
            let count = try await run.report(notes: "maxmemory at half the used memory for 10 s; \(taken) messages taken meanwhile (\(queuedAtStart) queued)")
            let whereabouts = await run.whereabouts()
            #expect(count.lost == 0, "\(whereabouts)")
            #expect(queuedAtStart > 1000, "the load was mostly queued when Redis filled up")
            // Taken while writes were refused: at most what was in flight when the first
            // refusal came back (two reservations of up to 128 per worker), not the queue.
            #expect(taken <= 2 * 2 * 128, "\(taken) messages taken while Redis refused writes")
            for worker in workers {
                #expect(worker.isRunning, "\(worker.name) died:\n\(worker.output.suffix(2000))")
                let lines = WorkerLog.problemLines(in: worker.output)
                #expect(lines.filter { $0.contains("Redis refuses writes (OOM") }.count == 1, "\(worker.name):\n\(lines.joined(separator: "\n"))")
                #expect(lines.filter { $0.contains("Redis accepts writes again") }.count == 1, "\(worker.name):\n\(lines.joined(separator: "\n"))")
            }
            #expect(try await run.probe.send(RedisCommand("HLEN", QueueKeys.unacked)).int == 0)
        }

        @Test func aWorkerStartedWhileRedisIsOutOfMemoryWaitsForIt() async throws {
            let run = try await FaultRun(.redisRefusesWrites)
            defer { run.close() }
            _ = try await run.probe.send(RedisCommand("CONFIG", "SET", "maxmemory", 1))
            let worker = try run.startWorker("patient", ["-c", "4"])
            try await run.poll(timeout: .seconds(30), "the worker reports the refusal") { worker.output.contains("Redis refuses writes") }
            #expect(worker.isRunning, "exited:\n\(worker.output.suffix(2000))")
            _ = try await run.probe.send(RedisCommand("CONFIG", "SET", "maxmemory", 0))
            try await run.waitReady(worker)
            try await run.send(FaultRun.adds(50))
            try await run.settle()
            #expect(try await run.finished() == 50)
        }

        private func usedMemory(_ run: FaultRun) async throws -> Int {
            let info = try await run.probe.send(RedisCommand("INFO", "memory")).string ?? ""
            let line = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("used_memory:") } ?? ""
            return Int(line.dropFirst("used_memory:".count)) ?? 0
        }
    }
}
