import Celeriac
import CeleriacTestSupport
import Foundation
import Logging
import Testing

extension FaultSuite {
    /// Stopping a worker under load with messages prefetched and ETA tasks held: everything it
    /// did not finish is back on its queue when it exits 0, and a new worker finishes it all.
    @Suite(.timeLimit(.minutes(5))) struct Shutdown {
        @Test func warmShutdownUnderLoadPutsEveryHeldMessageBack() async throws {
            let run = try await FaultRun(.warmShutdown)
            defer { run.close() }
            let stopping = try run.startWorker("stopping", ["-c", "4"])
            try await run.waitReady(stopping)
            // ETA tasks first, so the worker holds them (fewer than its prefetch window of 16:
            // each takes a slot while it waits) when the shutdown comes.
            try await run.send(FaultRun.sleeps(6, seconds: 0.01, options: TaskSendOptions(countdown: 6)))
            try await run.send(FaultRun.sleeps(2000, seconds: 0.01))
            try await run.waitFinished(atLeast: 300)

            stopping.signal(SIGTERM)
            let status = await stopping.wait(timeout: .seconds(60))
            #expect(status == 0, "\(stopping.output.suffix(2000))")
            let restored = stopping.output.components(separatedBy: "] restored to ").count - 1
            try await checkEverythingUnfinishedIsQueued(run)

            let again = try run.startWorker("again", ["-c", "8"])
            try await run.settle()
            let count = try await run.report(notes: "exit \(status), \(restored) held messages restored")
            let whereabouts = await run.whereabouts()
            #expect(count.lost == 0, "\(whereabouts)")
            #expect(count.runTwice == 0, "a warm shutdown lets running tasks finish and returns only unstarted ones")
            #expect(restored >= 6, "the ETA messages it held went back")
            #expect(again.isRunning)
        }

        @Test func coldShutdownUnderLoadPutsRunningTasksBackToo() async throws {
            let run = try await FaultRun(.coldShutdown)
            defer { run.close() }
            let stopping = try run.startWorker("stopping", ["-c", "4"])
            try await run.waitReady(stopping)
            try await run.send(FaultRun.sleeps(6, seconds: 0.01, options: TaskSendOptions(countdown: 6)))
            try await run.send(FaultRun.sleeps(200, seconds: 0.01))
            let long = try await run.send(FaultRun.sleeps(12, seconds: 3))
            try await run.send(FaultRun.sleeps(1000, seconds: 0.01))
            try await run.waitFinished(atLeast: 200)
            // The 3-s tasks come next in the queue; wait until one runs (`inspect active` lists
            // it, so the cold shutdown will find it), not merely received.
            var quiet = Logger(label: "control")
            quiet.logLevel = .warning
            let control = try await ControlClient.connect(url: run.server.url, logger: quiet)
            try await run.poll(timeout: .seconds(30), "a long task running") {
                let active = try await control.broadcast("active", arguments: ControlClient.inspectArguments("active"),
                                                         timeout: .seconds(3), limit: 1).values.first?.arrayValue ?? []
                return active.contains { task in long.contains { task["id"] == .string($0) } }
            }
            await control.close()

            stopping.signal(SIGINT)
            // The first Ctrl-C was counted before the second is sent, so the two cannot arrive as one.
            try await run.poll(timeout: .seconds(30), "the first Ctrl-C counted") {
                stopping.output.contains("Ctrl+C again will initiate cold shutdown")
            }
            stopping.signal(SIGINT)
            let status = await stopping.wait(timeout: .seconds(60))
            #expect(status == 0, "\(stopping.output.suffix(2000))")
            #expect(stopping.output.contains("cold shutdown: stopping "), "\(stopping.output.suffix(2000))")
            let interrupted = Self.interruptedCount(stopping.output)
            try await checkEverythingUnfinishedIsQueued(run)

            let again = try run.startWorker("again", ["-c", "8"])
            try await run.settle()
            let count = try await run.report(notes: "exit \(status), \(interrupted) running task(s) interrupted and put back")
            let whereabouts = await run.whereabouts()
            #expect(count.lost == 0, "\(whereabouts)")
            #expect(count.runTwice == 0, "an interrupted task never completed, so it runs once")
            #expect(interrupted > 0, "the cold shutdown caught tasks running")
            #expect(again.isRunning)
        }

        /// Right after the worker exited: nothing in kombu's `unacked` or Celeriac's owner hash,
        /// and exactly the unfinished tasks on the queue.
        private func checkEverythingUnfinishedIsQueued(_ run: FaultRun) async throws {
            #expect(try await run.probe.send(RedisCommand("HLEN", QueueKeys.unacked)).int == 0)
            #expect(try await run.probe.send(RedisCommand("HLEN", FaultRun.unackedOwnerKey)).int == 0)
            let finished = try await run.finished()
            let queued = try await run.probe.send(RedisCommand("LLEN", "celery")).int ?? -1
            #expect(queued == run.sent - finished, "queued \(queued), sent \(run.sent), finished \(finished)")
        }

        /// N from the worker's `cold shutdown: stopping N running task(s)` line.
        static func interruptedCount(_ log: String) -> Int {
            guard let range = log.range(of: "cold shutdown: stopping ") else { return 0 }
            return Int(log[range.upperBound...].prefix { $0.isNumber }) ?? 0
        }
    }
}
