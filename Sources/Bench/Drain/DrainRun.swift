public import CeleriacTestSupport

/// One timed drain: how many tasks, how long from the backlog's release until the last was
/// done, and what the drain cost Redis.
public struct DrainRun: Sendable {
    /// Tasks drained.
    public var tasks: Int
    /// Seconds from `RENAME` to the first poll that saw the drain done.
    public var seconds: Double
    /// Commands the workers sent during the drain (the benchmark's own left out).
    public var commands: CommandStats
    /// Reads Redis processed for the workers (`total_reads_processed`, the benchmark's own
    /// left out): about one per client round trip, however many commands it pipelines.
    public var roundTrips: Int

    public init(tasks: Int, seconds: Double, commands: CommandStats, roundTrips: Int) {
        self.tasks = tasks
        self.seconds = seconds
        self.commands = commands
        self.roundTrips = roundTrips
    }

    /// Tasks per second.
    public var rate: Double { seconds > 0 ? Double(tasks) / seconds : 0 }
    /// Redis commands per task.
    public var commandsPerTask: Double { tasks > 0 ? Double(commands.total) / Double(tasks) : 0 }
    /// Redis round trips per task.
    public var roundTripsPerTask: Double { tasks > 0 ? Double(roundTrips) / Double(tasks) : 0 }
}
