import Celeriac
import CeleriacTestSupport
import Foundation
import Testing

extension FaultSuite {
    /// A worker paused past its liveness window (`kill -STOP` for 10 s, as a full disk or a VM
    /// migration would): its peer restores what it held and runs it. The paused worker, resumed,
    /// checks that it still owns each message before it starts it, so only the tasks that were
    /// running at the pause (or had finished, their ack still in flight) can run twice, never the
    /// prefetched ones (before: all 64 held ran twice).
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
            let marks = try await run.probe.send(RedisCommand("HVALS", FaultRun.unackedOwnerKey)).array?.compactMap(\.string) ?? []
            let markedRunning = marks.filter { $0.hasPrefix("stalled@") && $0.hasSuffix(" running") }.count
            // Held but already finished (logged, their result and ack still queued or in flight
            // when it stopped): a peer rightly runs these again too. Read while it is stopped.
            let completed = WorkerLog.completions(in: [stalled.output])
            let finishedUnacked = held.filter { completed[$0] != nil }.count
            try await Task.sleep(for: .seconds(10))
            stalled.signal(SIGCONT)

            try await run.settle()
            // At most the tasks running at the pause (one per pool slot) and the finished ones
            // whose ack was in flight may run twice; none of the prefetched ones.
            let bound = concurrency + finishedUnacked
            let count = try await run.report(notes: "\(held.count) held at SIGSTOP, \(finishedUnacked) of them finished but not yet acked; at most \(bound) (the running and those) may run twice")
            let whereabouts = await run.whereabouts()
            #expect(count.lost == 0, "\(whereabouts)")
            #expect(held.count > bound, "the stalled worker held prefetched messages too")
            // Which ran twice, and whether each was held (and marked running) at the pause: what
            // a failure needs explained.
            let twice = WorkerLog.completions(in: run.workerLogs.map(\.log)).filter { $0.value > 1 }.map(\.key)
            let heldSet = Set(held)
            #expect(count.runTwice <= bound, "\(count.runTwice) run twice; \(markedRunning) marked running at the pause; not held then: \(twice.filter { !heldSet.contains($0) }); \(whereabouts)")
            #expect(stalled.output.contains("liveness lapsed") && stalled.output.contains("(the process was stalled)"), "\(stalled.output.suffix(2000))")
            #expect(stalled.isRunning && peer.isRunning)
        }

        /// Fenced acks and restores. A worker paused past its window (`--visibility-timeout 2`)
        /// while running one task and holding an ETA task: its peer restores both and takes them
        /// under the same delivery tags. The resumed worker's ack of the task it finished, and
        /// its warm shutdown's restore of the ETA task, must leave the peer's bookkeeping alone
        /// (before: the ack erased the peer's record of a message it was running, and the restore
        /// pushed a second copy of the ETA task, which then ran twice).
        @Test func aResumedWorkerNeitherAcksNorRestoresWhatItsPeerNowHolds() async throws {
            let run = try await FaultRun(.stalePeerBookkeeping)
            defer { run.close() }
            let flags = ["--acks-late", "-c", "1", "--visibility-timeout", "2"]
            let stalled = try run.startWorker("stalled", flags)
            try await run.waitReady(stalled)
            let running = try await run.send(FaultRun.sleeps(1, seconds: 6))[0]
            let waiting = try await run.send(FaultRun.sleeps(1, seconds: 0.1, options: TaskSendOptions(countdown: 14)))[0]
            try await run.poll(timeout: .seconds(20), "stalled holds both, one running") {
                let owners = try await run.probe.send(RedisCommand("HVALS", FaultRun.unackedOwnerKey)).array?.compactMap(\.string) ?? []
                return try await Set(run.heldIDs(ownedBy: "stalled@")) == [running, waiting]
                    && owners.contains { $0.hasPrefix("stalled@") && $0.hasSuffix(" running") }
            }
            let peer = try run.startWorker("peer", flags)
            try await run.waitReady(peer)

            stalled.signal(SIGSTOP)
            try await run.poll(timeout: .seconds(30), "the peer restored and took both") {
                try await Set(run.heldIDs(ownedBy: "peer@")) == [running, waiting]
            }
            stalled.signal(SIGCONT)

            // The resumed worker's sleep ends (6 s after it started) while the peer's copy runs on.
            try await run.poll(timeout: .seconds(30), "the resumed worker tried to ack") {
                if stalled.output.contains("Task demo.sleep[\(running)] not acked") { return true }
                return try await !run.heldIDs(ownedBy: "peer@").contains(running)
            }
            #expect(try await run.heldIDs(ownedBy: "peer@").contains(running), "the peer's record of the task it runs survives: \(stalled.output.suffix(1500))")

            stalled.signal(SIGTERM)
            _ = await stalled.wait(timeout: .seconds(30))
            #expect(stalled.output.contains("Task demo.sleep[\(waiting)] not restored"), "\(stalled.output.suffix(1500))")
            #expect(try await run.probe.send(RedisCommand("LLEN", "celery")).int == 0, "no second copy of the ETA task")

            try await run.settle(timeout: .seconds(60), stall: .seconds(30))
            let count = try await run.report(notes: "1 running and 1 ETA task held at SIGSTOP; only the running one may run twice")
            let whereabouts = await run.whereabouts()
            #expect(count.lost == 0, "\(whereabouts)")
            #expect(count.runTwice <= 1, "\(count.runTwice) run twice")
            try await run.poll(timeout: .seconds(10), "the peer acked both") {
                try await run.probe.send(RedisCommand("HLEN", QueueKeys.unacked)).int == 0
            }
        }
    }
}
