import Celeriac
import CeleriacMonitor
import CeleriacTestTags
import Testing

@Suite(.tags(.integration)) struct TaskTypeStatsTests {
    typealias E = EventScript

    @Test func runtimePercentilesFromAKnownDistribution() throws {
        var s = ClusterState()
        // Run times 1 ms, 2 ms, … 1000 ms, in shuffled order.
        var order = Array(1...1000)
        var seed: UInt64 = 42
        for i in order.indices.reversed() {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            order.swapAt(i, Int(seed >> 33) % (i + 1))
        }
        for ms in order {
            s.apply(E.succeeded("t\(ms)", at: 1000, runtime: Double(ms) / 1000), receivedAt: 1000)
            s.apply(E.received("t\(ms)", "app.sleep", at: 999), receivedAt: 1000)
        }
        let p = try #require(s.taskTypes["app.sleep"]?.runtimePercentiles)
        #expect(p.count == 1000)
        // HDR with 3 significant digits: within 0.1 %.
        #expect(abs(p.p50 - 0.500) <= 0.0005)
        #expect(abs(p.p95 - 0.950) <= 0.001)
        #expect(abs(p.p99 - 0.990) <= 0.001)
        #expect(abs(p.max - 1.000) <= 0.001)
    }

    @Test func countsTasksByCurrentStateAndRates() throws {
        var s = ClusterState()
        for i in 0..<6 { s.apply(E.received("t\(i)", at: 1000), receivedAt: 1000) }
        for i in 0..<4 { s.apply(E.started("t\(i)", at: 1001), receivedAt: 1001) }
        for i in 0..<3 { s.apply(E.succeeded("t\(i)", at: 1002), receivedAt: 1002.5) }
        s.apply(E.failed("t3", at: 1002), receivedAt: 1002.5)
        let stats = try #require(s.taskTypes["app.add"])
        #expect(stats.count(in: .received) == 2 && stats.count(in: .started) == 0)
        #expect(stats.count(in: .success) == 3 && stats.count(in: .failure) == 1 && stats.total == 6)
        #expect(stats.completedRate(over: 1, now: 1003) == 4)
        #expect(stats.completedRate(over: 60, now: 1003) == 4.0 / 60)
        #expect(stats.failed.rate(over: 900, now: 1003) == 1.0 / 900)
        #expect(stats.lastError?.exception == "ValueError('boom')")
        #expect(stats.lastError?.taskID == "t3" && stats.lastError?.at == 1002.5)
        #expect(stats.runtimePercentiles?.count == 3)
    }
}
