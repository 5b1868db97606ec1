import Celeriac
import CeleriacTestSupport
import Foundation
import Logging
import Testing

extension FaultSuite {
    /// `kill -9` of a worker in the middle of chords whose members are `acks_late`: the members it
    /// held are restored and run again on the survivor, count once in their chords (the join's
    /// `tid:index` dedupe), and every chord's body runs exactly once.
    @Suite(.timeLimit(.minutes(5))) struct ChordWorkerKill {
        @Test func killNineMidChordRunsEachBodyExactlyOnce() async throws {
            let run = try await FaultRun(.killNineMidChord)
            defer { run.close() }
            let doomed = try run.startWorker("doomed", ["--acks-late", "-c", "4"])
            let survivor = try run.startWorker("survivor", ["--acks-late", "-c", "4"])
            try await run.waitReady(doomed)
            try await run.waitReady(survivor)

            // A client with results on: it sets each chord's size in the result backend.
            var config = CeleriacConfig()
            config.brokerURL = run.server.urlString
            var logger = Logger(label: "chord-client")
            logger.logLevel = .critical
            let client = try await CeleriacClient.connect(config: config, logger: logger)
            defer { client.close() }
            let chords = 60, members = 8
            var bodies: [String] = []
            for _ in 0..<chords {
                let header = (0..<members).map { _ in Signature(task: "demo.sleep", args: [0.2]) }
                let result = try await client.apply(.chord(header, body: Signature(task: "demo.echo")))
                guard case .task(let body) = result else { Issue.record("a chord's result is its body's"); return }
                bodies.append(body.id)
            }
            run.expect(bodies, .success)
            // Bodies queue behind the members still waiting (as with Celery), so progress is
            // counted in members: a quarter of them done, the rest held or queued.
            try await run.poll(timeout: .seconds(90), "a quarter of the members done") {
                let done = run.workerLogs.map { $0.log.split(separator: "\n").filter { $0.contains("demo.sleep[") && $0.contains("] succeeded in") }.count }
                return done.reduce(0, +) >= chords * members / 4
            }

            doomed.signal(SIGKILL)
            await doomed.wait()
            let held = try await run.heldIDs(ownedBy: "doomed@")
            #expect(!held.isEmpty, "the worker was killed while holding chord members")

            try await run.settle()
            let count = try await run.report(notes: "\(chords) chords of \(members) acks_late members, \(held.count) held at kill -9")
            let whereabouts = await run.whereabouts()
            #expect(count.lost == 0, "\(whereabouts)")
            let logs = run.workerLogs.map(\.log).joined()
            for id in bodies {
                let received = logs.components(separatedBy: "demo.echo[\(id)] received").count - 1
                #expect(received == 1, "body \(id) received \(received) times")
            }
            for id in bodies {
                let value = try await client.result(id: id).get(timeout: .seconds(10))
                #expect(value.arrayValue?.count == members, "every member counted once in the body's results")
            }
            #expect(survivor.isRunning)
        }
    }
}
