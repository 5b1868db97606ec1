import Celeriac
import CeleriacTestSupport
import Foundation
import Testing

extension FaultSuite {
    /// Faults of `--pool process` children: one killed mid-task, and a task that kills its child
    /// every time it runs.
    @Suite(.timeLimit(.minutes(5))) struct PoolChild {
        /// A config with `task_reject_on_worker_lost`, so a task whose child died goes back to its
        /// queue (at-least-once) instead of being recorded as `WorkerLostError`.
        private func rejectingConfig(_ run: FaultRun) throws -> String {
            let path = run.logs.file("reject.yaml")
            try "task_reject_on_worker_lost: true\n".write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }

        /// The pool children of a worker process: Linux lists children under the thread that
        /// spawned them, so every thread's `children` file is read.
        private func children(of pid: Int32) -> [Int32] {
            let threads = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
            return threads.flatMap { tid -> [Int32] in
                let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/children", encoding: .utf8)) ?? ""
                return text.split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            }.sorted()
        }

        @Test func killNineOfAPoolChildMidTaskLosesNothing() async throws {
            let run = try await FaultRun(.killNinePoolChild)
            defer { run.close() }
            let worker = try run.startWorker("pool", ["--pool", "process", "-c", "2", "--acks-late", "--config", try rejectingConfig(run)])
            try await run.waitReady(worker)
            try await run.send(FaultRun.sleeps(1500, seconds: 0.01))
            try await run.waitFinished(atLeast: 300)
            let before = children(of: worker.pid)
            let victim = try #require(before.first, "the worker has pool children")
            kill(victim, SIGKILL)
            try await run.poll(timeout: .seconds(30), "a fresh child replaced the killed one") {
                let now = self.children(of: worker.pid)
                return now.count == before.count && !now.contains(victim)
            }
            try await run.settle()
            let count = try await run.report(notes: "child \(victim) killed; worker alive, pool refilled")
            let whereabouts = await run.whereabouts()
            #expect(count.lost == 0, "\(whereabouts)")
            #expect(count.runTwice <= 1, "only the killed child's task may run twice")
            #expect(worker.isRunning)
        }

        @Test func aTaskThatCrashesItsChildEveryTimeIsDeadLetteredNotLooped() async throws {
            let run = try await FaultRun(.crashingTask)
            defer { run.close() }
            let worker = try run.startWorker("pool", ["--pool", "process", "-c", "2", "--acks-late", "--config", try rejectingConfig(run)])
            try await run.waitReady(worker)
            try await run.send(FaultRun.adds(500))
            let crash = try await run.send([CeleriacClient.Signature("demo.crash")], expecting: .failure)
            try await run.send(FaultRun.adds(500))
            try await run.settle()
            let letters = try await run.deadLetters()
            let crashLetters = letters.filter { (try? TaskMessage.decode(bytes: Array($0.message.utf8)).id) == crash[0] }
            #expect(crashLetters.count == 1, "dead-lettered once, after the redelivery cap: \(letters.map(\.reason))")
            #expect(crashLetters.first?.reason.contains("lost its pool process") == true)
            // Nothing keeps coming back. A message is always in one place: the queue, kombu's
            // `unacked` (reserved or running; a requeue moves it back in one step), or past its
            // end (a result, the dead letters). With the queue and `unacked` both empty, the
            // crashing message exists only as its dead letter, and nothing reads those back.
            // Waited for, not sampled: the last adds' acks may still be on their way.
            try await run.poll(timeout: .seconds(30), "the queue and unacked are empty") {
                let queued = try await run.probe.send(RedisCommand("LLEN", "celery")).int
                let unacked = try await run.probe.send(RedisCommand("HLEN", QueueKeys.unacked)).int
                return queued == 0 && unacked == 0
            }
            #expect(try await run.deadLetters().count == letters.count, "no dead letter since the one counted")
            let count = try await run.report(notes: "demo.crash dead-lettered after \(crashLetters.count) letter(s); \(letters.count) dead letter(s) in all")
            let whereabouts = await run.whereabouts()
            #expect(count.lost == 0, "\(whereabouts)")
            #expect(worker.isRunning)
        }
    }
}
