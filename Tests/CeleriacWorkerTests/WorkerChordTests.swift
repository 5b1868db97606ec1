import Celeriac
import CeleriacTestSupport
import CeleriacTestTags
import CeleriacWorker
import Foundation
import Logging
import Testing

/// Chords on workers sharing the in-memory store (``InMemoryBroker``), no redis-server: the join
/// the worker carries out after a member's part (claim, body, cleanup; or ChordError), with the
/// store's scripts done in memory. Every wait is the store's ``InMemoryBroker/until(_:)``.
@Suite(.tags(.unit), .timeLimit(.minutes(1))) struct WorkerChordTests {
    private func start(_ broker: InMemoryBroker, node: String) async throws -> (Worker, Task<Void, any Error>) {
        var settings = WorkerSettings(brokerURL: try RedisURL(parsing: "redis://127.0.0.1:1/0"), resultBackendURL: nil,
                                      concurrency: 2, prefetchMultiplier: 1, nodeName: node)
        settings.mingle = false
        var logger = Logger(label: "chord-worker")
        logger.logLevel = ProcessInfo.processInfo.environment["HARNESS_DEBUG"] != nil ? .debug : .critical
        var tasks = TaskRegistry()
        tasks.register("t.add", parameters: ["x", "y"]) { (x: Int, y: Int) in x + y }
        tasks.register("t.fail", parameters: ["why"]) { (why: String) -> Int in throw TaskError.valueError(why) }
        tasks.register("t.sum", parameters: ["nums"]) { (nums: [Int]) in nums.reduce(0, +) }
        let worker = Worker(settings: settings, tasks: tasks, logger: logger) { broker.driver(for: $0) }
        let run = Task { try await worker.run() }
        await broker.until { $0.liveness[node] != nil }
        return (worker, run)
    }

    /// The messages and chord size a client sends for `chord(header, body)`.
    private func chordPlan(_ header: [Signature], body: Signature) throws -> CanvasPlan {
        var planner = CanvasPlanner(context: CanvasContext(replyTo: "client-oid", origin: "gen1@test", now: Date(),
                                                           newID: { UUID().uuidString.lowercased() }))
        try planner.apply(.chord(header, body: body))
        return planner.plan
    }

    private func stop(_ workers: [(Worker, Task<Void, any Error>)]) async throws {
        for (worker, _) in workers { worker.beginShutdown() }
        for (_, run) in workers { try await run.value }
    }

    @Test func twoWorkersJoinAChordOnceWithTheResultsInHeaderOrder() async throws {
        let broker = InMemoryBroker()
        let workers = [try await start(broker, node: "a@chord"), try await start(broker, node: "b@chord")]
        let plan = try chordPlan((0..<6).map { Signature(task: "t.add", args: [.int($0), .int($0)]) }, body: Signature(task: "t.sum"))
        let bodyID = try #require(plan.messages.first?.chord["options"]?["task_id"]?.stringValue)
        broker.apply(plan)
        #expect(await broker.until { $0.results[bodyID] != nil })
        try await stop(workers)
        let s = broker.snapshot
        #expect(s.results[bodyID]?.result == .int(30))
        let bodies = s.published.filter { $0.id == bodyID }
        #expect(bodies.count == 1, "the body is published once")
        #expect(bodies.first?.args == [[0, 2, 4, 6, 8, 10]], "results in header order, whichever member ended last")
        let gid = try #require(plan.messages.first?.group)
        #expect(s.log.filter { $0 == .chordFinished(groupID: gid) }.count == 1)
        #expect(s.chords[gid]?.claim == "done", "late duplicates find the chord done")
    }

    @Test func aFailingMemberFailsTheBodyWithChordErrorAndSendsNoBody() async throws {
        let broker = InMemoryBroker()
        let workers = [try await start(broker, node: "a@chordfail")]
        let header = [Signature(task: "t.add", args: [1, 1]), Signature(task: "t.fail", args: ["first"]), Signature(task: "t.fail", args: ["second"])]
        let plan = try chordPlan(header, body: Signature(task: "t.sum"))
        let bodyID = try #require(plan.messages.first?.chord["options"]?["task_id"]?.stringValue)
        let failing = plan.messages[1].id
        broker.apply(plan)
        #expect(await broker.until { $0.results[bodyID] != nil })
        try await stop(workers)
        let s = broker.snapshot
        let meta = try #require(s.results[bodyID])
        #expect(meta.status == .failure)
        #expect(meta.exception == ExceptionInfo(type: "ChordError", message: "Dependency \(failing) raised ValueError('first')", module: "celery.exceptions"),
                "the first failing member in header order")
        #expect(!s.published.contains { $0.id == bodyID }, "no body message")
        let gid = try #require(plan.messages.first?.group)
        #expect(s.log.contains(.chordAbandoned(groupID: gid)))
        #expect(s.chords[gid]?.size == nil, "the size is dropped so a late copy cannot fail it again")
    }

    @Test func aMemberDeliveredTwiceCountsOnce() async throws {
        let broker = InMemoryBroker()
        let plan = try chordPlan([Signature(task: "t.add", args: [1, 2]), Signature(task: "t.add", args: [3, 4])], body: Signature(task: "t.sum"))
        let first = try #require(plan.messages.first)
        let bodyID = try #require(first.chord["options"]?["task_id"]?.stringValue)
        let gid = try #require(first.group)
        // The first member twice (a redelivery), then the second: two parts, not three.
        var copy = first
        copy.deliveryTag = UUID().uuidString.lowercased()
        copy.markRedelivered()
        broker.apply(CanvasPlan(steps: [plan.steps[0], .publish(copy)] + plan.steps.dropFirst()))
        let workers = [try await start(broker, node: "a@chorddup")]
        #expect(await broker.until { $0.results[bodyID] != nil })
        try await stop(workers)
        let s = broker.snapshot
        let parts = s.log.compactMap { op -> Bool? in if case .chordPartRecorded(gid, _, let counted) = op { counted } else { nil } }
        // The copy either comes before the join (recorded, not counted) or after it (the chord is
        // done, nothing recorded): two parts count either way.
        #expect(parts.filter { $0 }.count == 2, "the duplicate is not counted: \(parts)")
        #expect(s.results[bodyID]?.result == .int(10))
        #expect(s.published.filter { $0.id == bodyID }.count == 1)
    }

    /// A member that expired before it ran is REVOKED, and its part fails the chord, as
    /// Celery's `mark_as_revoked` returns it.
    @Test func anExpiredMemberFailsTheChord() async throws {
        let broker = InMemoryBroker()
        var plan = try chordPlan([Signature(task: "t.add", args: [1, 2]), Signature(task: "t.add", args: [3, 4])], body: Signature(task: "t.sum"))
        guard case .publish(var expired) = plan.steps[0] else { Issue.record("\(plan.steps)"); return }
        expired.expires = Date(timeIntervalSinceNow: -60)
        plan.steps[0] = .publish(expired)
        let bodyID = try #require(expired.chord["options"]?["task_id"]?.stringValue)
        broker.apply(plan)
        let workers = [try await start(broker, node: "a@chordexpired")]
        #expect(await broker.until { $0.results[bodyID] != nil })
        try await stop(workers)
        let meta = try #require(broker.snapshot.results[bodyID])
        #expect(meta.exception?.message == [.string("Dependency \(expired.id) raised TaskRevokedError('expired')")])
    }

    /// A chain in a chord's header: its last step is the member. When an earlier step fails, the
    /// rest of the chain is failed (`_fail_chain`) and the last step returns its part FAILURE, so
    /// the chord fails instead of waiting for a part that never comes.
    @Test func aFailingStepOfAChainInTheHeaderFailsTheChord() async throws {
        let broker = InMemoryBroker()
        let chain = Signature.chain([Signature(task: "t.add", args: [1, 1]), Signature(task: "t.fail", args: ["mid"], immutable: true),
                                     Signature(task: "t.add", args: [5])])
        // The chain last: the size is set before it goes out (a chain member carries no chord of
        // its own; its last step does), and counts it once.
        let plan = try chordPlan([Signature(task: "t.add", args: [3, 3]), chain], body: Signature(task: "t.sum"))
        #expect(plan.steps.count == 3)
        if plan.steps.count == 3 { #expect(plan.steps[1] == .setChordSize(groupID: try #require(plan.messages.first?.group), size: 2)) }
        let lastStepJSON = try #require(plan.messages.last?.chain.arrayValue?.first)
        let lastStep = try Signature(json: lastStepJSON)
        let bodyID = try #require(lastStep.options["chord"]?["options"]?["task_id"]?.stringValue)
        broker.apply(plan)
        let workers = [try await start(broker, node: "a@chordchain")]
        #expect(await broker.until { $0.results[bodyID] != nil })
        try await stop(workers)
        let meta = try #require(broker.snapshot.results[bodyID])
        #expect(meta.exception?.message == [.string("Dependency \(try #require(lastStep.taskID)) raised ValueError('mid')")])
    }
}
