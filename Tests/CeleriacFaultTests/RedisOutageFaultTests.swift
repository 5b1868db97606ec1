import Celeriac
import CeleriacTestSupport
import Foundation
import Testing

extension FaultSuite {
    /// Redis going away under load: the workers stay up, report the outage in one line each,
    /// reconnect by themselves and finish every task. The server keeps its data (an append-only
    /// file fsynced on every write), as a production Redis would across a restart.
    @Suite(.timeLimit(.minutes(5))) struct RedisOutage {
        @Test func redisRestartedUnderLoadLosesNothing() async throws {
            let run = try await FaultRun(.redisRestart, persistentRedis: true)
            defer { run.close() }
            let workers = try await startWorkers(run)
            try await run.send(FaultRun.sleeps(3000, seconds: 0.005))
            try await run.waitFinished(atLeast: 600)

            try run.server.restart()

            try await run.settle()
            let count = try await run.report(notes: outageNotes(workers))
            let whereabouts = await run.whereabouts()
            #expect(count.lost == 0, "\(whereabouts)")
            checkOneOutageLineEach(workers)
        }

        @Test func redisUnreachableForThirtySecondsUnderLoadLosesNothing() async throws {
            let run = try await FaultRun(.redisUnreachable, persistentRedis: true)
            defer { run.close() }
            let workers = try await startWorkers(run)
            try await run.send(FaultRun.sleeps(3000, seconds: 0.005))
            try await run.waitFinished(atLeast: 600)

            run.server.stop()
            let outageEnds = ContinuousClock.now + .seconds(30)
            while ContinuousClock.now < outageEnds {
                try await Task.sleep(for: .seconds(1))
                for worker in workers { #expect(worker.isRunning, "\(worker.name) died during the outage:\n\(worker.output.suffix(2000))") }
            }
            try run.server.restart()

            try await run.settle()
            let count = try await run.report(notes: outageNotes(workers))
            let whereabouts = await run.whereabouts()
            #expect(count.lost == 0, "\(whereabouts)")
            checkOneOutageLineEach(workers)
        }

        /// One worker acking early (Celery's default) and one acking late, so both paths meet the outage.
        private func startWorkers(_ run: FaultRun) async throws -> [ChildProcess] {
            let workers = [try run.startWorker("early", ["-c", "4"]), try run.startWorker("late", ["-c", "4", "--acks-late"])]
            for worker in workers { try await run.waitReady(worker) }
            return workers
        }

        private func outageNotes(_ workers: [ChildProcess]) -> String {
            workers.map { "\($0.name) logged \(WorkerLog.problemLines(in: $0.output).count) warning(s)" }.joined(separator: ", ")
        }

        /// Alive, and one clear line about the outage (the only warning of the run), not one per
        /// connection or per retry.
        private func checkOneOutageLineEach(_ workers: [ChildProcess]) {
            for worker in workers {
                #expect(worker.isRunning, "\(worker.name) died:\n\(worker.output.suffix(2000))")
                let lines = WorkerLog.problemLines(in: worker.output)
                #expect(lines.count == 1, "\(worker.name):\n\(lines.joined(separator: "\n"))")
                #expect(lines.first?.contains(" unreachable: ") == true)
            }
        }
    }
}
