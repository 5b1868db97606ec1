/// How much each phase does: the default run (about 10–15 minutes on 2 cores) or `--quick`.
public struct BenchPlan: Sendable {
    /// Repetitions of every measurement (the median of these is reported).
    public var runs = 3
    /// Tasks per drain run, sized by a calibration drain (Python drains ~800/s).
    public var swiftDrain = DrainSize(seconds: 5, minimum: 20_000, maximum: 200_000, calibration: 5_000)
    public var pythonDrain = DrainSize(seconds: 10, minimum: 5_000, maximum: 20_000, calibration: 1_000)
    /// Payload sizes and the tasks per run at each size (Swift, Python).
    public var payloads: [(bytes: Int, swift: DrainSize, python: DrainSize)] = [
        (100, DrainSize(seconds: 5, minimum: 20_000, maximum: 100_000, calibration: 5_000),
         DrainSize(seconds: 10, minimum: 5_000, maximum: 20_000, calibration: 1_000)),
        (10_000, DrainSize(seconds: 5, minimum: 5_000, maximum: 20_000, calibration: 2_000),
         DrainSize(seconds: 10, minimum: 1_000, maximum: 5_000, calibration: 500)),
        (1_000_000, DrainSize(seconds: 5, minimum: 50, maximum: 200, calibration: 20),
         DrainSize(seconds: 10, minimum: 20, maximum: 100, calibration: 10)),
    ]
    /// Tasks queued at once for the memory run, and how long each side is sampled.
    public var backlog = 1_000_000
    public var swiftBacklogWindow: Duration = .seconds(60)
    public var pythonBacklogWindow: Duration = .seconds(20)
    /// Enqueue counts per run.
    public var swiftSingleSends = 20_000
    public var swiftBulkSends = 200_000
    public var bulkBatch = 1_000
    public var pythonSends = 5_000
    /// Round trips per run.
    public var roundTrips = 1_000
    /// Tasks in the monitor's event stream (3 events each).
    public var monitorStreamTasks = 100_000
    /// Tasks seen for the two memory figures.
    public var monitorMemoryTasks = [100_000, 1_000_000]
    /// Tasks in the store for the frame figure, and frames timed per run.
    public var frameTasks = 100_000
    public var frames = 100
    /// `redis-benchmark` requests, pipelined and not.
    public var ceilingPipelined = 1_000_000
    public var ceilingUnpipelined = 100_000

    public init() {}

    /// A few minutes: fewer and shorter runs everywhere, still three runs and ≥ 1,000 round trips.
    public static var quick: BenchPlan {
        var p = BenchPlan()
        p.swiftDrain = DrainSize(seconds: 1, minimum: 5_000, maximum: 50_000, calibration: 2_000)
        p.pythonDrain = DrainSize(seconds: 1, minimum: 500, maximum: 2_000, calibration: 300)
        p.payloads = [
            (100, p.swiftDrain, p.pythonDrain),
            (10_000, DrainSize(seconds: 1, minimum: 1_000, maximum: 5_000, calibration: 500),
             DrainSize(seconds: 1, minimum: 200, maximum: 1_000, calibration: 100)),
            (1_000_000, DrainSize(seconds: 1, minimum: 20, maximum: 50, calibration: 10),
             DrainSize(seconds: 1, minimum: 10, maximum: 20, calibration: 5)),
        ]
        p.backlog = 100_000
        p.swiftBacklogWindow = .seconds(10)
        p.pythonBacklogWindow = .seconds(5)
        p.swiftSingleSends = 3_000
        p.swiftBulkSends = 50_000
        p.pythonSends = 1_000
        p.monitorStreamTasks = 20_000
        p.monitorMemoryTasks = [100_000, 500_000]
        p.frames = 30
        p.ceilingPipelined = 200_000
        p.ceilingUnpipelined = 20_000
        return p
    }
}
