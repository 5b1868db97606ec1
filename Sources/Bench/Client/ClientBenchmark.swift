import Celeriac
public import Logging

/// One Swift client's enqueue rate and round-trip latency, connected to the benchmark's Redis
/// like an application (broker db 0, results in db 1, so each send subscribes to its result
/// as Celery's `delay()` does).
public struct ClientBenchmark: Sendable {
    let redis: BenchRedis
    let logger: Logger

    public init(redis: BenchRedis, logger: Logger) {
        self.redis = redis
        self.logger = logger
    }

    func connect() async throws -> CeleriacClient {
        var config = CeleriacConfig()
        config.brokerURL = redis.brokerURL
        config.resultBackend = redis.resultURL
        return try await CeleriacClient.connect(config: config, logger: logger)
    }

    /// Tasks per second sending `count` no-op tasks one at a time (each `send` awaited before
    /// the next), on a fresh client after 100 unmeasured sends; the queue is emptied after.
    public func singleSends(count: Int) async throws -> Double {
        let client = try await connect()
        defer { client.close() }
        for _ in 0..<100 { _ = try await client.send(DrainBenchmark.task) }
        let start = ContinuousClock.now
        for _ in 0..<count { _ = try await client.send(DrainBenchmark.task) }
        let seconds = (ContinuousClock.now - start).inSeconds
        try await redis.flushAll()
        return Double(count) / seconds
    }

    /// Tasks per second sending `count` no-op tasks with `sendMany` in batches of `batch`,
    /// subscribing to each result (the default) or not.
    public func bulkSends(count: Int, batch: Int, subscribingResults: Bool = true) async throws -> Double {
        let client = try await connect()
        defer { client.close() }
        let signatures = Array(repeating: CeleriacClient.Signature(DrainBenchmark.task), count: batch)
        _ = try await client.sendMany(Array(signatures.prefix(100)))
        let start = ContinuousClock.now
        var sent = 0
        while sent < count {
            let n = min(batch, count - sent)
            _ = try await client.sendMany(n == batch ? signatures : Array(signatures.prefix(n)), subscribingResults: subscribingResults)
            sent += n
        }
        let seconds = (ContinuousClock.now - start).inSeconds
        try await redis.flushAll()
        return Double(count) / seconds
    }

    /// Latencies in seconds of `count` calls of `send` then `get`, one after the other, after
    /// `warmUp` unmeasured ones; a worker must be consuming.
    public func roundTrips(count: Int, warmUp: Int = 50) async throws -> [Double] {
        let client = try await connect()
        defer { client.close() }
        for _ in 0..<warmUp { _ = try await client.send(DrainBenchmark.task).get(timeout: .seconds(60)) }
        var out: [Double] = []
        out.reserveCapacity(count)
        for _ in 0..<count {
            let start = ContinuousClock.now
            _ = try await client.send(DrainBenchmark.task).get(timeout: .seconds(30))
            out.append((ContinuousClock.now - start).inSeconds)
        }
        return out
    }
}

/// Percentiles of latencies, by the nearest-rank method.
public enum Percentile {
    /// The `q` quantile (0…1) of `values`: the smallest value with at least `q` of them at or below it.
    public static func of(_ values: [Double], _ q: Double) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        let rank = Int((q * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }
}
