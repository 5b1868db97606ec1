import Celeriac
import CeleriacTestSupport
import Foundation
import Testing

extension FaultSuite {
    /// `kill -9` of a worker mid-task with acks_late: every message it held is restored by the
    /// surviving worker within seconds (orphan recovery, not kombu's one-hour visibility
    /// timeout) and runs there.
    @Suite(.timeLimit(.minutes(5))) struct WorkerKill {
        @Test func killNineOfAWorkerMidTaskLosesNothing() async throws {
            let run = try await FaultRun(.killNineWorker)
            defer { run.close() }
            let doomed = try run.startWorker("doomed", ["--acks-late", "-c", "4"])
            let survivor = try run.startWorker("survivor", ["--acks-late", "-c", "4"])
            try await run.waitReady(doomed)
            try await run.waitReady(survivor)
            try await run.send(FaultRun.sleeps(3000, seconds: 0.01))
            try await run.waitFinished(atLeast: 600)

            doomed.signal(SIGKILL)
            await doomed.wait()
            let killedAt = ContinuousClock.now
            // What it held: entries of kombu's `unacked` it owned, which only a restore brings back.
            let held = try await run.heldIDs(ownedBy: "doomed@")
            #expect(!held.isEmpty, "the worker was killed while holding messages")

            try await run.poll(timeout: .seconds(60), "every message the killed worker held finished") {
                try await run.finished(held) == held.count
            }
            let recovery = ContinuousClock.now - killedAt
            try await run.settle()
            let count = try await run.report(notes: "\(held.count) held at kill -9, all run again within \(FaultRun.seconds(recovery))")
            let whereabouts = await run.whereabouts()
            #expect(count.lost == 0, "\(whereabouts)")
            // Only what the killed worker held can have run twice (at-least-once).
            #expect(count.runTwice <= held.count)
            #expect(survivor.isRunning)
            #expect(survivor.output.contains("restored "), "\(survivor.output.suffix(2000))")
        }
    }
}
