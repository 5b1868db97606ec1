import Celeriac
@testable import CeleriacWorker
import Foundation
import Logging
import Synchronization
import CeleriacTestTags
import Testing

/// The pidbox's commands run against a fake ``ControlledWorker``: what each command asks of the
/// worker and what it replies, with no Redis.
@Suite(.tags(.unit)) struct ControlCommandsTests {
    /// Records what the commands asked of it; holds a small fixed state.
    final class FakeWorker: ControlledWorker {
        struct Calls {
            var revoked: [String] = []
            var saves = 0
            var markedInBackend: [String] = []
            var terminated: [(ids: [String], signum: Int)] = []
            var resized: [Int] = []
            var shutdowns = 0
            var queues = ["celery"]
            var rateLimits: [String: String] = [:]
            var clock = 10
        }

        let settings = WorkerSettings(brokerURL: RedisURL(endpoint: .tcp(host: "127.0.0.1", port: 1)), resultBackendURL: nil,
                                      nodeName: "w1@test")
        let logger = Logger(label: "fake", factory: { _ in SwiftLogNoOpLogHandler() })
        let running: Set<String>
        let calls = Mutex(Calls())

        init(running: Set<String> = []) { self.running = running }

        func nextClock() -> Int { calls.withLock { $0.clock += 1; return $0.clock } }
        func adjustClock(to clock: Int) { calls.withLock { $0.clock = max($0.clock, clock) + 1 } }
        var taskNames: [String] { ["demo.add", "demo.sleep"] }
        func isRegistered(_ taskName: String) -> Bool { taskNames.contains(taskName) }
        func requests(in phase: RequestTracker.Phase) -> [TaskRequestInfo] { [] }
        func scheduledRequests() -> [JSONValue] { [] }
        func queryRequests(_ ids: [String]) -> JSONValue { .object([:]) }
        func isRunning(_ id: String) -> Bool { running.contains(id) }
        func statsSnapshot() -> ControlledWorkerStats {
            ControlledWorkerStats(total: ["demo.add": 2], concurrency: 3, pool: ["max-concurrency": 3], startedAt: Date())
        }
        var revokedIDs: [String] { calls.withLock { $0.revoked } }
        func addRevoked(_ ids: [String]) { calls.withLock { $0.revoked += ids } }
        func saveRevoked() { calls.withLock { $0.saves += 1 } }
        func markRevokedInBackend(_ id: String) async { calls.withLock { $0.markedInBackend.append(id) } }
        func terminate(_ ids: [String], signum: Int) -> [String] {
            calls.withLock { $0.terminated.append((ids, signum)) }
            return ids.filter(running.contains)
        }
        func rateLimitText(of taskName: String) -> String? { calls.withLock { $0.rateLimits[taskName] } }
        func setRateLimit(_ taskName: String, perSecond rate: Double, text: String) { calls.withLock { $0.rateLimits[taskName] = text } }
        func setTimeLimit(_ taskName: String, hard: Double?, soft: Double?) {}
        var taskEventsEnabled: Bool { false }
        func setTaskEvents(_ on: Bool) -> Bool { true }
        func sendHeartbeat(freq: Double) async {}
        func resizePool(by delta: Int) { calls.withLock { $0.resized.append(delta) } }
        var consumedQueues: [String] { calls.withLock { $0.queues } }
        func addConsumer(_ queue: String) async -> Bool {
            calls.withLock { c in
                guard !c.queues.contains(queue) else { return false }
                c.queues.append(queue)
                return true
            }
        }
        func cancelConsumer(_ queue: String) { calls.withLock { $0.queues.removeAll { $0 == queue } } }
        func beginShutdown() { calls.withLock { $0.shutdowns += 1 } }
    }

    private func command(_ method: String, _ arguments: JSONObject = [:], destination: [String]? = nil, clock: Int = 0) -> ControlCommand {
        ControlCommand(method: method, arguments: arguments, destination: destination, ticket: "t",
                       replyTo: .init(routingKey: "oid"), clock: clock)
    }

    @Test func revokeWithTerminateMarksTheIdsNotRunningAndTerminatesTheRunningOne() async {
        let worker = FakeWorker(running: ["running"])
        let reply = await ControlCommands(worker: worker).run(
            command("revoke", ["task_id": ["running", "waiting", "running"], "terminate": true, "signal": "SIGKILL"]))
        #expect(reply == ControlReplyBody.revokeTerminated(["running"]))
        let calls = worker.calls.withLock { $0 }
        #expect(calls.revoked == ["running", "waiting"], "each id once")
        #expect(calls.saves == 1)
        #expect(calls.markedInBackend == ["waiting"], "a running task's state is its own to report")
        #expect(calls.terminated.map(\.ids) == [["running", "waiting"]])
        #expect(calls.terminated.map(\.signum) == [9])
    }

    @Test func commandsForAnotherNodeAreNotRun() async {
        let worker = FakeWorker()
        let reply = await ControlCommands(worker: worker).run(command("shutdown", destination: ["w2@test"], clock: 50))
        #expect(reply == nil)
        let calls = worker.calls.withLock { $0 }
        #expect(calls.shutdowns == 0)
        #expect(calls.clock == 10, "not even the clock is merged")
    }

    @Test func shutdownBeginsAWarmShutdownWithoutReplying() async {
        let worker = FakeWorker()
        let reply = await ControlCommands(worker: worker).run(command("shutdown", destination: ["w1@test"]))
        #expect(reply == nil)
        #expect(worker.calls.withLock { $0.shutdowns } == 1)
    }

    @Test func poolGrowAndShrinkResizeByAtLeastOne() async {
        let worker = FakeWorker()
        let commands = ControlCommands(worker: worker)
        #expect(await commands.run(command("pool_grow", ["n": 3])) == ControlReplyBody.ok("pool will grow"))
        #expect(await commands.run(command("pool_shrink", ["n": 0])) == ControlReplyBody.ok("pool will shrink"))
        #expect(worker.calls.withLock { $0.resized } == [3, -1])
    }

    @Test func rateLimitIsCheckedAndShownInRegistered() async {
        let worker = FakeWorker()
        let commands = ControlCommands(worker: worker)
        #expect(await commands.run(command("rate_limit", ["task_name": "nope", "rate_limit": "1/s"])) == ControlReplyBody.rateLimitUnknownTask)
        #expect(await commands.run(command("rate_limit", ["task_name": "demo.add", "rate_limit": "often"]))
            == ControlReplyBody.error("Invalid rate limit string: ValueError('often')"))
        #expect(await commands.run(command("rate_limit", ["task_name": "demo.add", "rate_limit": "10/m"])) == ControlReplyBody.rateLimitSet)
        #expect(await commands.run(command("registered")) == ControlReplyBody.registered(["demo.add [rate_limit=10/m]", "demo.sleep"]))
    }

    @Test func addConsumerTwiceSaysItAlreadyConsumes() async {
        let worker = FakeWorker()
        let commands = ControlCommands(worker: worker)
        #expect(await commands.run(command("add_consumer", ["queue": "q2"])) == ControlReplyBody.ok("add consumer q2"))
        #expect(await commands.run(command("add_consumer", ["queue": "q2"])) == ControlReplyBody.ok("already consuming from 'q2'"))
        let queues = await commands.run(command("active_queues"))
        #expect(queues?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["celery", "q2"])
    }

    @Test func statsReportTheWorkersFiguresAndTheCommandsClockIsMerged() async {
        let worker = FakeWorker()
        let stats = await ControlCommands(worker: worker).run(command("stats", clock: 100))
        #expect(stats?["total"] == ["demo.add": 2])
        #expect(stats?["prefetch_count"] == .int(4 * 3), "multiplier × the pool's size now")
        #expect(stats?["pool"]?["max-concurrency"] == 3)
        #expect((stats?["clock"]?.stringValue).flatMap { Int($0) } == 102, "merged to 101, then ticked for the reply")
    }
}
