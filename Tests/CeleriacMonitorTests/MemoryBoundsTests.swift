import Celeriac
import CeleriacMonitor
import Foundation
import CeleriacTestTags
import Testing

#if os(Linux)
import CMallocStats
#endif

/// qmon's memory is bounded in bytes, not only in entries: the task store by its byte budget
/// and per-field limit, workers by their cap, the input buffer by bytes (issue 12, case 7).
@Suite(.tags(.memoryBounds), .serialized) struct MemoryBoundsTests {
    typealias E = EventScript

    private static func received(_ id: String, args: String, at t: Double) -> CeleryEvent {
        .taskReceived(
            E.worker, clock: 10, timestamp: t, uuid: id, name: "app.big", args: args, kwargs: "{}", rootID: id,
            parentID: nil, retries: 0, eta: nil, expires: nil)
    }

    /// A 100 KB argument repr made fresh for each task, so that a store keeping it would hold
    /// its only copy (as with decoded events).
    private static func hundredKB(_ i: Int) -> String {
        "(" + String(i) + ", '" + String(repeating: "x", count: 100_000) + "')"
    }

    @Test func fiveThousandTasksWith100KBArgumentsStayWithinTheByteBudget() async throws {
        let budget = 16 << 20
        let before = TaskStoreTests.heapInUse()
        var s = ClusterState(configuration: .init(maxTaskBytes: budget))
        for i in 0..<5_000 {
            // 15 s of CPU: other suites' tasks get the thread between tasks, so timing-
            // sensitive integration tests running meanwhile are not starved.
            if i % 50 == 0 { await Task.yield() }
            let t = 1_000 + Double(i) / 1000
            s.apply(Self.received("t\(i)", args: Self.hundredKB(i), at: t), receivedAt: t)
            s.apply(E.succeeded("t\(i)", at: t), receivedAt: t)
            #expect(s.tasks.approximateBytes <= budget)
        }
        let after = TaskStoreTests.heapInUse()
        // Each record keeps 16 KiB of its arguments, so 16 MiB holds about a thousand of them:
        // the oldest were evicted, the newest are held, and every held one says it was cut.
        #expect(s.tasks.approximateBytes <= budget && s.tasks.approximateBytes > budget / 2)
        #expect(s.tasks.count < 5_000 && s.tasks.evictedCount == 5_000 - s.tasks.count)
        let newest = try #require(s.tasks["t4999"])
        #expect(newest.args?.utf8.count == ClusterState.Configuration.defaultMaxFieldBytes)
        #expect(newest.originalByteCount(of: .args) == Self.hundredKB(4999).utf8.count)
        #expect(s.summary(now: 2_000).taskBytes == s.tasks.approximateBytes)
        if let before, let after {
            // 500 MB of arguments went through; malloc holds the budget plus the store's ring
            // (reserved for 100,000 records, 31 MB) more than before: about 47 MB alone. The
            // figures are process-wide and other suites run meanwhile (TaskStoreTests holds
            // 70 MB at its peak), so the bound is loose: well below the 508 MB measured with
            // the budget and the cut reverted.
            let grown = after - before
            print("MemoryBounds: 5,000 tasks with 100 KB args: malloc in use grew \(grown >> 20) MiB, store counts \(s.tasks.approximateBytes >> 20) MiB of a \(budget >> 20) MiB budget, \(s.tasks.count) tasks held")
            #expect(grown < 384 << 20)
        }
    }

    @Test func theDefaultBudgetHoldsFiveThousandTasksWith100KBArguments() async {
        // 5,000 records with 16 KiB each fit in the default 128 MiB: nothing is evicted, and
        // the store counts less than the budget instead of the 500 MB that was sent.
        var s = ClusterState()
        for i in 0..<5_000 {
            if i % 50 == 0 { await Task.yield() }
            s.apply(Self.received("t\(i)", args: Self.hundredKB(i), at: 1_000), receivedAt: 1_000)
        }
        #expect(s.tasks.count == 5_000 && s.tasks.evictedCount == 0)
        #expect(s.tasks.approximateBytes < ClusterState.Configuration.defaultMaxTaskBytes)
        #expect(s.tasks.approximateBytes < 5_000 * 20_000)
    }

    @Test func longTextsAreCutAtACharacterBoundaryAndSaySo() throws {
        var s = ClusterState(configuration: .init(maxFieldBytes: 10))
        // "é" is two bytes: ten bytes would end inside the fifth one, so nine are kept.
        let text = "aéééééééé"
        s.apply(Self.received("a", args: text, at: 1), receivedAt: 1)
        s.apply(
            .taskFailed(E.worker, clock: 12, timestamp: 2, uuid: "a", exception: "ValueError('" + text + "')",
                        traceback: String(repeating: "line\n", count: 10)), receivedAt: 2)
        let r = try #require(s.tasks["a"])
        #expect(r.args == "aéééé" && r.originalByteCount(of: .args) == text.utf8.count)
        #expect(r.exception == "ValueError" && r.originalByteCount(of: .exception) == 31)
        #expect(r.traceback?.utf8.count == 10 && r.originalByteCount(of: .traceback) == 50)
        #expect(r.kwargs == "{}" && r.originalByteCount(of: .kwargs) == nil)
        #expect(Set(r.truncatedFields.keys) == [.args, .exception, .traceback])
        // A later text that fits replaces the note.
        s.apply(Self.received("a", args: "(1,)", at: 3), receivedAt: 3)
        #expect(s.tasks["a"]?.args == "(1,)" && s.tasks["a"]?.originalByteCount(of: .args) == nil)
    }

    @Test func theDetailScreenSaysWhatWasCutAndWhereTheRestIs() {
        var s = ClusterState()
        s.apply(Self.received("big", args: Self.hundredKB(7), at: 1), receivedAt: 1)
        s.apply(E.succeeded("big", at: 2), receivedAt: 2)
        s.apply(Self.received("bad", args: Self.hundredKB(8), at: 1), receivedAt: 1)
        s.apply(E.failed("bad", at: 2, exception: "E()", traceback: String(repeating: "frame\n", count: 5_000)), receivedAt: 2)
        let size = DashboardFixture.large
        func text(_ id: String) -> String {
            let v = DashboardFixture.view(.taskDetail(id), size: size)
            return Layout.layout(model: s, view: v, size: size, now: 3).lines.joined(separator: "\n")
        }
        let big = text("big")
        #expect(big.contains("truncated: 16,384 of 100,007 bytes shown; full value in the result backend"))
        #expect(big.contains("celery-task-meta-big"))
        let bad = text("bad")
        #expect(bad.contains("truncated: 16,384 of 100,007 bytes shown; full value in the failed-task store (celeriac.failed.bad"))
        // The traceback's note is under its section title, further down: scroll through.
        var pages: [String] = []
        for top in stride(from: 0, to: 1_000, by: 20) {
            var v = DashboardFixture.view(.taskDetail("bad"), size: size)
            v.positions[.detail] = ListPosition(selected: 0, top: top)
            pages.append(Layout.layout(model: s, view: v, size: size, now: 3).lines.joined(separator: "\n"))
        }
        #expect(pages.contains { $0.contains("truncated: 16,384 of 30,000 bytes shown; full value in the result backend (celery-task-meta-bad)") })
    }

    @Test func workersAreCappedOfflineFirstThenLeastRecentlySeen() {
        var s = ClusterState(configuration: .init(maxWorkers: 3))
        func beat(_ host: String, _ kind: CeleryEventKind = .workerHeartbeat, at t: Double) {
            s.apply(E.heartbeat(kind, at: t, from: EventSender(hostname: host, utcoffset: 0, pid: 1)), receivedAt: t)
        }
        // Within the 4 s heartbeat window: every worker but "gone" is online throughout.
        beat("old@h", at: 100)  // online, seen first
        beat("gone@h", .workerOnline, at: 100.2)
        beat("gone@h", .workerOffline, at: 100.4)  // offline, seen after "old"
        beat("new@h", at: 100.6)
        beat("fourth@h", at: 100.8)
        #expect(Set(s.workers.keys) == ["old@h", "new@h", "fourth@h"])
        #expect(s.evictedWorkers == 1)
    }

    @Test func twentyFiveThousandHostnamesLeaveAtMostTheCap() {
        var s = ClusterState()
        let cap = s.configuration.maxWorkers
        for i in 0..<25_000 {
            let t = 1_000 + Double(i) / 25_000
            // Hostnames of any length: each is kept to 1 KiB.
            let host = "w\(i)@" + String(repeating: "h", count: i % 100 == 0 ? 50_000 : 10)
            s.apply(E.heartbeat(at: t, from: EventSender(hostname: host, utcoffset: 0, pid: i)), receivedAt: t)
        }
        #expect(s.workers.count <= cap && s.workers.count > cap / 2)
        #expect(s.workers.keys.allSatisfy { $0.utf8.count <= s.configuration.maxNameBytes })
        #expect(s.workers["w24999@hhhhhhhhhh"] != nil)
    }

    @Test func theInputBufferIsBoundedInBytesAndCountsWhatItDrops() throws {
        let buffer = MonitorInputBuffer(capacity: 1_000_000, byteCapacity: 1 << 20, groupingWindow: 0.005)
        let args = String(repeating: "y", count: 10_000)
        for i in 0..<1_000 {
            // A flood faster than the model takes it: nothing drains meanwhile.
            buffer.append(event: Self.received("t\(i)", args: args, at: 1), receivedAt: 1 + Double(i) * 0.001)
            #expect(buffer.byteCount <= 1 << 20)
        }
        let held = buffer.eventCount
        #expect(held > 10 && held < 100)
        let inputs = buffer.drain()
        let ids = inputs.flatMap { input -> [String] in
            if case .events(let e, _) = input { e.compactMap(\.task?.uuid) } else { [] }
        }
        #expect(ids == (1_000 - held..<1_000).map { "t\($0)" })
        let notices = inputs.filter { if case .notice = $0 { true } else { false } }
        #expect(notices.count == 1)
        guard case .dropped(let dropped)? = inputs.last else { Issue.record("no drop count: \(inputs.suffix(2))"); return }
        #expect(dropped == 1_000 - held)

        // The model counts it; the header and the snapshot show it.
        var s = ClusterState()
        for input in inputs { s.apply(input) }
        #expect(s.droppedEvents == dropped && s.summary(now: 2).eventsDropped == dropped)
        let size = DashboardFixture.large
        let header = Layout.layout(model: s, view: DashboardFixture.view(.overview, size: size), size: size, now: 2).lines[0]
        #expect(header.contains("\(Format.count(dropped)) events dropped"))
        #expect(ClusterSnapshot.json(s, now: 2)["summary"]?["events_dropped"] == .int(dropped))
        // The next drain reports nothing new.
        #expect(buffer.drain().isEmpty)
    }
}

extension MemoryBoundsTests {
    @Test func idsAndNamesAreKeptToTheNameLimit() throws {
        var s = ClusterState(configuration: .init(maxNameBytes: 64))
        let id = String(repeating: "i", count: 100_000)
        s.apply(
            .taskReceived(
                EventSender(hostname: String(repeating: "w", count: 100_000), utcoffset: 0, pid: 1), clock: 1, timestamp: 1,
                uuid: id, name: String(repeating: "n", count: 100_000), args: "()", kwargs: "{}", rootID: id,
                parentID: String(repeating: "p", count: 100_000), retries: 0, eta: nil, expires: nil),
            receivedAt: 1)
        s.apply(.taskFailed(E.worker, clock: 2, timestamp: 2, uuid: id, exception: "E()", traceback: nil), receivedAt: 2)
        let r = try #require(s.tasks.oldestFirst.first)
        #expect(s.tasks.count == 1 && r.uuid.utf8.count == 64 && r.state == .failure)
        #expect(r.name?.utf8.count == 64 && r.parentID?.utf8.count == 64 && r.rootID == r.uuid)
        #expect(s.workers.keys.allSatisfy { $0.utf8.count <= 64 })
        #expect(s.failures.newestFirst.first?.latestTaskID.utf8.count == 64)
        #expect(s.tasks.approximateBytes < 4_096)
    }
}

extension MemoryBoundsTests {
    @Test func theLimitsAreOptionsOfTheDashboardAndSnapshot() throws {
        let defaults = try DashboardCommand.parse([]).limits.configuration(localUTCOffset: 0)
        #expect(defaults.maxTasks == 100_000 && defaults.maxTaskBytes == 128 << 20)
        #expect(defaults.maxFieldBytes == 16_384 && defaults.maxWorkers == 5_000)
        let set = try SnapshotCommand.parse(["--max-task-memory", "32", "--max-field-bytes", "1024", "--max-workers", "10"])
            .limits.configuration(localUTCOffset: 0)
        #expect(set.maxTaskBytes == 32 << 20 && set.maxFieldBytes == 1_024 && set.maxWorkers == 10)
        for bad in [["--max-task-memory", "0"], ["--max-field-bytes", "10"], ["--max-workers", "0"], ["--max-tasks", "0"]] {
            #expect(throws: (any Error).self) { try DashboardCommand.parse(bad) }
        }
    }
}
