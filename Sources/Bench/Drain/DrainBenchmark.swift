import Celeriac
import CeleriacTestSupport
import Foundation

/// Drains of a backlog of no-op tasks by Swift or Python workers, timed from the backlog's
/// release to the moment nothing is queued, nothing is held and (results on) every result is
/// stored. Worker start-up is never timed: each fleet first drains a small warm-up backlog,
/// then drains `runs` measured backlogs while it stays up.
public struct DrainBenchmark: Sendable {
    /// The task every drain runs: registered by `qworker` and by `interop/demoapp.py`.
    public static let task = "demo.noop"
    /// The queue drained.
    public static let queue = "celery"
    /// The list backlogs are staged on before their release.
    static let staging = "qbench.staging"
    /// Tasks drained before measuring.
    static let warmUpTasks = 200
    /// Between progress polls.
    static let pollInterval: Duration = .milliseconds(5)

    let redis: BenchRedis
    let environment: BenchEnvironment
    let progress: @Sendable (String) -> Void

    public init(redis: BenchRedis, environment: BenchEnvironment, progress: @escaping @Sendable (String) -> Void) {
        self.redis = redis
        self.environment = environment
        self.progress = progress
    }

    /// Starts the workers of `spec`, warms them up, sizes the runs with a calibration drain
    /// (``DrainSize``), times `runs` drains (with `payloadBytes` bytes of argument), and stops them.
    public func measure(_ spec: WorkerSpec, size: DrainSize, runs: Int, payloadBytes: Int = 0) async throws -> [DrainRun] {
        try await redis.flushAll()
        let fleet = try WorkerFleet(
            spec: spec, brokerURL: redis.brokerURL, resultURL: redis.resultURL, queue: Self.queue,
            environment: environment, tag: spec.side.rawValue)
        do {
            let message = Self.messageMaker(payloadBytes: payloadBytes)
            _ = try await drain(tasks: min(Self.warmUpTasks, size.calibration), spec: spec, fleet: fleet, message: message,
                                startUpAllowance: .seconds(90))
            let calibration = try await drain(tasks: size.calibration, spec: spec, fleet: fleet, message: message)
            let tasks = size.tasks(atRate: calibration.rate)
            var out: [DrainRun] = []
            for i in 0..<runs {
                let run = try await drain(tasks: tasks, spec: spec, fleet: fleet, message: message)
                progress("  run \(i + 1)/\(runs): \(FigureFormat.grouped(tasks)) tasks in \(FigureFormat.number(run.seconds)) s = \(FigureFormat.number(run.rate)) tasks/s")
                out.append(run)
            }
            await fleet.stop()
            return out
        } catch {
            let tails = fleet.logTails
            await fleet.stop()
            throw BenchError("\(error)\n\(tails)")
        }
    }

    /// Encodes message `i`: the same argument bytes for all, a fresh id for each.
    static func messageMaker(payloadBytes: Int) -> @Sendable (Int) -> [UInt8] {
        { _ in Backlog.message(task: task, payloadBytes: payloadBytes, queue: queue) }
    }

    /// Stages `tasks` messages, releases them and waits until the drain is done.
    func drain(
        tasks: Int, spec: WorkerSpec, fleet: WorkerFleet, message: (Int) -> [UInt8],
        startUpAllowance: Duration = .zero
    ) async throws -> DrainRun {
        try await Backlog.stage(count: tasks, staging: Self.staging, client: redis.broker, make: message)
        if spec.results { try await redis.flushResults() }
        try await redis.resetStats()
        var watch = DrainWatch(broker: redis.broker, results: spec.results ? redis.results : nil, queue: Self.queue)
        // Generous: a loaded machine, a slow Python start, big payloads.
        let timeout = startUpAllowance + .seconds(60) + .milliseconds(tasks * 20)
        let start = ContinuousClock.now
        try await Backlog.release(staging: Self.staging, queue: Self.queue, client: redis.broker)
        let doneAt = try await waitUntilDone(&watch, expected: tasks, results: spec.results, fleet: fleet, deadline: start + timeout)
        let seconds = (doneAt - start).inSeconds
        let (info, commands) = try await redis.statsAndCommands()
        // Leave out the benchmark's own commands: its polls, the RENAME, and the INFO itself.
        let own = watch.ownCommands
        var mine = own.calls
        mine["rename", default: 0] += 1
        mine["info", default: 0] += 1
        mine["config|resetstat", default: 0] += 1
        let reads = (info.int("total_reads_processed") ?? 0) - watch.ownRoundTrips - 2
        return DrainRun(tasks: tasks, seconds: seconds, commands: commands.subtracting(CommandStats(calls: mine)), roundTrips: max(reads, 0))
    }

    /// Polls until done; returns when the first poll that saw it done started. With results
    /// off, "done" must be seen on two polls in a row: a worker may hold a message it popped
    /// but has not recorded in `unacked` yet, for an instant.
    func waitUntilDone(
        _ watch: inout DrainWatch, expected: Int, results: Bool, fleet: WorkerFleet, deadline: ContinuousClock.Instant
    ) async throws -> ContinuousClock.Instant {
        var firstDone: ContinuousClock.Instant?
        while true {
            let pollStart = ContinuousClock.now
            let p = try await watch.poll()
            if p.isDone(expectedResults: expected) {
                if results { return pollStart }
                if let firstDone { return firstDone }
                firstDone = pollStart
            } else {
                firstDone = nil
            }
            if ContinuousClock.now > deadline {
                throw BenchError("drain of \(expected) tasks not done in time: \(p.queued) queued, \(p.unacked) unacked, \(p.results.map(String.init) ?? "-") results")
            }
            try fleet.checkRunning()
            try await Task.sleep(for: Self.pollInterval)
        }
    }
}
