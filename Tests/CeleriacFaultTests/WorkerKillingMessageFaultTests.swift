import Celeriac
import CeleriacTestSupport
import Foundation
import Testing

extension FaultSuite {
    /// Messages that once killed the worker itself, sent among ordinary tasks to `acks_late`
    /// workers that a supervisor restarts as they die (systemd's `Restart=always`):
    /// - header values of extreme size (`time_limit=1e300`, infinite, negative limits, `retries`
    ///   at `Int.max`) run like any task: the worker must not die;
    /// - `demo.crash` aborts the worker running it (the in-process pool has no child to lose):
    ///   after ``WorkerSettings/workerLostRedeliveries`` redeliveries the sweep dead-letters it and
    ///   stores FAILURE `WorkerLostError`, instead of handing it from worker to worker forever;
    ///   the tasks that ran beside it when it struck run apart from it afterwards, so none of
    ///   them is dead-lettered in its place.
    @Suite(.timeLimit(.minutes(5))) struct WorkerKillingMessage {
        @Test func aMessageThatKillsItsWorkerIsDeadLetteredAndHostileHeadersRun() async throws {
            let run = try await FaultRun(.workerKillingMessage)
            defer { run.close() }
            let flags = ["--acks-late", "-c", "8"]
            var deaths = 0
            var workers = [try run.startWorker("a", flags), try run.startWorker("b", flags)]
            for worker in workers { try await run.waitReady(worker) }
            try await run.send(FaultRun.sleeps(400, seconds: 0.02))

            // What any Celery client can send: `send_task('demo.sleep', [0.1], time_limit=1e300)`.
            let extremes: [TimeLimit] = [TimeLimit(hard: 1e300, soft: 1e300), TimeLimit(hard: .infinity, soft: nil),
                                         TimeLimit(hard: -1, soft: -1e308), TimeLimit(hard: 0, soft: nil)]
            for limit in extremes {
                try await run.send(FaultRun.sleeps(1, seconds: 0.1, options: TaskSendOptions(timeLimit: limit.hard, softTimeLimit: limit.soft)))
            }
            var counted = TaskMessage.make(name: "demo.add", args: [1, 2], kwargs: [:], options: TaskSendOptions(), origin: "gen0@fault",
                                           now: Date(), newID: { UUID().uuidString.lowercased() })
            counted.retries = Int.max
            try await run.push(counted.encoded())
            run.expect([counted.id], .success)
            let crash = try await run.send([CeleriacClient.Signature("demo.crash")], expecting: .failure)[0]
            try await run.send(FaultRun.sleeps(400, seconds: 0.02))

            // The supervisor: a worker that died is started again under its node name.
            let deadline = ContinuousClock.now + .seconds(120)
            while try await run.finished() < run.sent, ContinuousClock.now < deadline {
                for (i, worker) in workers.enumerated() where !worker.isRunning {
                    deaths += 1
                    let node = i == 0 ? "a" : "b"
                    workers[i] = try run.startWorker("\(node)-restart-\(deaths)", flags, node: node)
                }
                try await Task.sleep(for: .milliseconds(200))
            }
            try await run.settle()

            let meta = try await run.meta(of: crash)
            #expect(meta?.status == .failure && meta?.exception?.type == "WorkerLostError", "\(String(describing: meta))")
            let letters = try await run.deadLetters()
            #expect(letters.count == 1, "\(letters.map(\.reason))")
            #expect(letters.first?.reason.contains("demo.crash[\(crash)] was running when its worker died") == true,
                    "\(letters.map(\.reason))")
            // One death per run of the poison message: the first and each allowed redelivery
            // (`WorkerSettings.workerLostRedeliveries`, 3 in qworker). A first run's mark may not
            // reach Redis before the abort (only redelivered messages wait for it): one more.
            let allowed = 3 + 1
            #expect(deaths >= allowed && deaths <= allowed + 1, "workers died \(deaths) times")
            let count = try await run.report(notes: "demo.crash killed its worker \(deaths) times, then was dead-lettered; "
                                                 + "\(extremes.count + 1) messages with extreme header values ran")
            let whereabouts = await run.whereabouts()
            #expect(count.lost == 0, "\(whereabouts)")
            // Only what a dying worker was running can run twice: at most its concurrency per death.
            #expect(count.runTwice <= deaths * 8)
            for worker in workers { #expect(worker.isRunning, "\(worker.name) died:\n\(worker.output.suffix(3000))") }
            #expect(try await run.probe.send(RedisCommand("HLEN", QueueKeys.unacked)).int == 0)
        }
    }
}
