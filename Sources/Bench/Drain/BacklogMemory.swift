import Foundation

/// A worker's resident memory while it drains a very large backlog (1,000,000 tasks by
/// default): with prefetch bounded it must stay flat however much is queued.
public struct BacklogMemoryRun: Sendable {
    /// Tasks queued at release.
    public var backlog: Int
    /// Resident bytes (every worker process and its pool) just before the release.
    public var startBytes: Int
    /// The highest resident bytes seen in each third of the window.
    public var maxBytesPerThird: [Int]
    /// Tasks drained within the window.
    public var drained: Int
    /// Length of the window in seconds (shorter when the backlog ran out first).
    public var seconds: Double
    /// Every sample: seconds since release, resident bytes.
    public var samples: [(seconds: Double, bytes: Int)]
}

extension DrainBenchmark {
    /// Queues `backlog` tasks at once and samples the workers' resident memory every 200 ms
    /// for `window` or until drained; then stops the workers and deletes what is left.
    public func backlogMemory(_ spec: WorkerSpec, backlog: Int, window: Duration) async throws -> BacklogMemoryRun {
        try await redis.flushAll()
        let fleet = try WorkerFleet(
            spec: spec, brokerURL: redis.brokerURL, resultURL: redis.resultURL, queue: Self.queue,
            environment: environment, tag: spec.side.rawValue + "-backlog")
        do {
            let message = Self.messageMaker(payloadBytes: 0)
            _ = try await drain(tasks: Self.warmUpTasks, spec: spec, fleet: fleet, message: message, startUpAllowance: .seconds(90))
            progress("  staging \(FigureFormat.grouped(backlog)) messages…")
            try await Backlog.stage(count: backlog, staging: Self.staging, client: redis.broker, make: message)
            let startBytes = fleet.residentBytes()
            var watch = DrainWatch(broker: redis.broker, results: nil, queue: Self.queue)
            let start = ContinuousClock.now
            try await Backlog.release(staging: Self.staging, queue: Self.queue, client: redis.broker)
            var samples: [(Double, Int)] = []
            var left = backlog
            while ContinuousClock.now - start < window {
                try await Task.sleep(for: .milliseconds(200))
                try fleet.checkRunning()
                samples.append(((ContinuousClock.now - start).inSeconds, fleet.residentBytes()))
                let p = try await watch.poll()
                left = p.queued + p.unacked
                if left == 0 { break }
            }
            let seconds = (ContinuousClock.now - start).inSeconds
            await fleet.stop()
            try await redis.flushAll()
            var thirds = [0, 0, 0]
            for (t, bytes) in samples {
                let i = min(2, Int(t / max(seconds, 0.001) * 3))
                thirds[i] = max(thirds[i], bytes)
            }
            return BacklogMemoryRun(
                backlog: backlog, startBytes: startBytes, maxBytesPerThird: thirds, drained: backlog - left,
                seconds: seconds, samples: samples)
        } catch {
            let tails = fleet.logTails
            await fleet.stop()
            throw BenchError("\(error)\n\(tails)")
        }
    }
}
