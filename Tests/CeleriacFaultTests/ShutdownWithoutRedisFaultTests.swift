import Celeriac
import CeleriacTestSupport
import Foundation
import Testing

extension FaultSuite {
    /// SIGTERM while Redis is unreachable: the worker waits for its running tasks, then gives
    /// Redis `Worker.shutdownRedisWait` (10 s) and exits, instead of waiting for Redis forever.
    /// What it could not write stays recorded in kombu's `unacked` under its name, so a worker
    /// started once Redis is back restores it and nothing is lost. A worker still retrying its
    /// first connection ends on the first SIGTERM.
    @Suite(.timeLimit(.minutes(5))) struct ShutdownWithoutRedis {
        @Test func sigtermEndsAWorkerWhoseRedisIsGoneAndNothingIsLost() async throws {
            let run = try await FaultRun(.shutdownWithoutRedis, persistentRedis: true)
            defer { run.close() }
            let stranded = try run.startWorker("stranded", ["--acks-late", "-c", "4"])
            try await run.waitReady(stranded)
            try await run.send(FaultRun.sleeps(400, seconds: 0.5))
            try await run.waitFinished(atLeast: 8)

            run.server.stop()
            stranded.signal(SIGTERM)
            // Running tasks end within 0.5 s, then 10 s for Redis; the rest is the slack a
            // loaded machine needs. Before the fix it waited for Redis forever (and `wait` kills
            // it after the timeout: status 9).
            let status = await stranded.wait(timeout: .seconds(60))
            #expect(status == 0, "exit status \(status):\n\(stranded.output.suffix(2000))")
            let gaveUp = WorkerLog.problemLines(in: stranded.output).filter { $0.contains("shutdown: Redis did not take") }
            #expect(gaveUp.count == 1, "\(WorkerLog.problemLines(in: stranded.output))")

            // Start-up: retrying a Redis that is not there, then SIGTERM.
            let early = try run.startWorker("early", ["--acks-late"])
            try await run.poll(timeout: .seconds(30), "early retries its connection") { early.output.contains("Cannot connect to") }
            early.signal(SIGTERM)
            #expect(await early.wait(timeout: .seconds(10)) == 0, "\(early.output.suffix(2000))")

            try run.server.restart()
            let heir = try run.startWorker("heir", ["--acks-late", "-c", "16"])
            try await run.waitReady(heir)
            try await run.settle()
            let count = try await run.report(notes: "stranded worker exited \(status) after SIGTERM with Redis down; a start-up retry ended on SIGTERM")
            let whereabouts = await run.whereabouts()
            #expect(count.lost == 0, "\(whereabouts)")
            // Only what was running or finished without its result stored can run twice.
            #expect(count.runTwice <= 4 + 4)
        }
    }
}
