import Celeriac
@testable import CeleriacMonitor
import CeleriacTestTags
import Testing

private typealias E = EventScript

/// The shortcuts of the model's hot path (the task store's recent-id hints, the remembered
/// worker and task-name places, the precedence switch) give the answers of the plain lookups,
/// including after evictions and insertions that move things.
@Suite(.tags(.integration)) struct IngestShortcutsTests {
    @Test func precedenceSwitchMatchesCelerysOrder() {
        for state in TaskState.allCases {
            #expect(TaskRecord.precedence(state) == state.precedence, "\(state)")
        }
    }

    @Test func anEvictedTaskIsNotFoundThroughAStaleHint() {
        var s = ClusterState(configuration: .init(maxTasks: 2))
        s.apply(E.received("a", at: 1), receivedAt: 1)
        s.apply(E.started("a", at: 2), receivedAt: 2)  // "a" is now a hint
        s.apply(E.received("b", at: 3), receivedAt: 3)
        s.apply(E.received("c", at: 4), receivedAt: 4)  // evicts "a"
        #expect(!s.tasks.contains("a") && s.tasks.evictedCount == 1)
        // A late event for the evicted task makes a new record, not a write into another one.
        s.apply(E.succeeded("a", at: 5), receivedAt: 5)
        #expect(s.tasks["a"]?.state == .success && s.tasks["a"]?.name == nil)
        #expect(s.tasks["b"] == nil)  // evicted for the new "a"
        #expect(s.tasks["c"]?.state == .received)
        #expect(s.tasks.count == 2 && s.tasks.evictedCount == 2)
    }

    @Test func everyTaskKeepsItsOwnRecordThroughManyEvictions() {
        var s = ClusterState(configuration: .init(maxTasks: 50))
        for i in 0..<2_000 {
            let id = "0b5e1f2a-7c3d-4e6f-9a1b-\(String(i, radix: 16))"
            let t = Double(i)
            s.apply(E.received(id, at: t), receivedAt: t)
            // Older tasks come back now and then: held ones are updated, evicted ones are new.
            let back = "0b5e1f2a-7c3d-4e6f-9a1b-\(String(i / 2, radix: 16))"
            s.apply(E.started(back, at: t), receivedAt: t)
            s.apply(E.succeeded(id, at: t), receivedAt: t)
            #expect(s.tasks[id]?.state == .success && s.tasks[id]?.uuid == id)
            #expect(s.tasks[back]?.uuid == back)
        }
        #expect(s.tasks.count == 50)
        for r in s.tasks.oldestFirst { #expect(s.tasks[r.uuid]?.uuid == r.uuid) }
    }

    @Test func taskEventsReachTheirWorkerWhileWorkersAreAdded() {
        var s = ClusterState()
        let w1 = EventSender(hostname: "w1@host", utcoffset: 0, pid: 1)
        for i in 0..<300 {
            let t = 1_000 + Double(i)
            s.apply(E.started("t\(i)", at: t, from: w1), receivedAt: t)
            // New workers grow (and rehash) the table between w1's events.
            let other = EventSender(hostname: "worker-number-\(i)@a-long-host-name", utcoffset: 0, pid: 2)
            s.apply(E.heartbeat(at: t, from: other), receivedAt: t)
            #expect(s.workers["w1@host"]?.lastSeen == t)
            #expect(s.workers[other.hostname]?.lastSeen == t)
        }
        #expect(s.workers.count == 301)
    }

    @Test func statisticsFollowEachNameWhileNamesAreAdded() {
        var s = ClusterState(configuration: .init(maxTaskTypes: 40))
        for i in 0..<100 {
            let t = Double(i)
            for name in ["app.a", "app.b", "app.new\(i)"] {
                let id = "\(name)-\(i)"
                s.apply(E.received(id, name, at: t), receivedAt: t)
                s.apply(E.succeeded(id, at: t), receivedAt: t)
            }
        }
        #expect(s.taskTypes["app.a"]?.count(in: .success) == 100)
        #expect(s.taskTypes["app.b"]?.count(in: .success) == 100)
        #expect(s.taskTypes["app.new0"]?.count(in: .success) == 1)
        // 40 names with their own statistics (app.a, app.b, app.new0…37), the rest pooled.
        #expect(s.taskTypes.count == 41)
        #expect(s.taskTypes["app.new37"]?.count(in: .success) == 1 && s.taskTypes["app.new38"] == nil)
        #expect(s.taskTypes[ClusterState.otherTaskTypesName]?.count(in: .success) == 100 - 38)
        #expect(s.taskTypes.values.reduce(0) { $0 + $1.total } == 300)
    }
}

@Suite(.tags(.integration)) struct EvictionReuseTests {
    @Test func aRecordMadeFromAnEvictedOneStartsEmpty() {
        var s = ClusterState(configuration: .init(maxTasks: 1))
        s.apply(E.received("a", at: 1), receivedAt: 1)
        s.apply(E.started("a", at: 2), receivedAt: 2)
        s.apply(E.failed("a", at: 3), receivedAt: 3)
        // "b" takes over "a"'s timeline buffer, not its history.
        s.apply(E.started("b", at: 4), receivedAt: 4)
        let b = s.tasks["b"]
        #expect(b?.timeline.map(\.kind) == [.taskStarted])
        #expect(b?.exception == nil && b?.name == nil && b?.state == .started)
        #expect(s.tasks.count == 1 && s.tasks.evictedCount == 1)
    }
}
