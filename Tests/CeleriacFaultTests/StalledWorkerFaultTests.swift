import Celeriac
import CeleriacTestSupport
import Foundation
import Testing

extension FaultSuite {
    /// A worker paused past its liveness window (`kill -STOP` for 10 s, as a full disk or a VM
    /// migration would): its peer restores what it held and runs it. The paused worker, resumed,
    /// checks that it still owns each message before it starts it, so only the tasks that were
    /// running at the pause can run twice, never the prefetched ones (before: all 64 held ran twice).
    @Suite(.timeLimit(.minutes(5))) struct StalledWorker {
        @Test func aWorkerStalledPastItsLivenessRunsNoPrefetchedMessageTwice() async throws {
            let run = try await FaultRun(.stalledWorker)
            defer { run.close() }
            let concurrency = 16
            let stalled = try run.startWorker("stalled", ["--acks-late", "-c", "\(concurrency)"])
            let peer = try run.startWorker("peer", ["--acks-late", "-c", "\(concurrency)"])
            try await run.waitReady(stalled)
            try await run.waitReady(peer)
            try await run.send(FaultRun.sleeps(3000, seconds: 0.05))
            try await run.waitFinished(atLeast: 400)

            stalled.signal(SIGSTOP)
            let held = try await run.heldIDs(ownedBy: "stalled@")
            try await Task.sleep(for: .seconds(10))
            stalled.signal(SIGCONT)

            try await run.settle()
            let count = try await run.report(notes: "\(held.count) held at SIGSTOP; at most the \(concurrency) running ones may run twice")
            let whereabouts = await run.whereabouts()
            #expect(count.lost == 0, "\(whereabouts)")
            #expect(held.count > concurrency, "the stalled worker held prefetched messages too")
            #expect(count.runTwice <= concurrency, "\(count.runTwice) run twice")
            #expect(stalled.output.contains("liveness lapsed") && stalled.output.contains("(the process was stalled)"), "\(stalled.output.suffix(2000))")
            #expect(stalled.isRunning && peer.isRunning)
        }
    }
}
