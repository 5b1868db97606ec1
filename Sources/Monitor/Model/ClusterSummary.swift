/// The overview line and sparklines of the dashboard at one instant
/// (``ClusterState/summary(now:)``).
///
/// "Tasks" here are tasks that *completed* (reached SUCCESS or FAILURE), each once. Rates
/// cover complete seconds of local receive time before `now` (see ``RateWindow``).
public struct ClusterSummary: Sendable, Hashable {
    /// Workers online at `now` (``WorkerState/isOnline(now:)``).
    public var workersOnline: Int
    /// Workers known, online or not.
    public var workersTotal: Int
    /// Completed tasks in the last complete second.
    public var tasksPerSecond: Double
    /// Completed tasks per second over the last minute.
    public var tasksPerSecondLastMinute: Double
    /// Completed tasks per second over the last 15 minutes.
    public var tasksPerSecondLast15Minutes: Double
    /// Tasks that failed in the last 60 seconds.
    public var failuresPerMinute: Int
    /// Events received in the last complete second.
    public var eventsPerSecond: Double
    /// Events received since start (Celery's `event_count`).
    public var totalEvents: Int
    /// Tasks held in ``ClusterState/tasks``.
    public var tasksHeld: Int
    /// Tasks evicted from it so far (beyond `--max-tasks` or `--max-task-memory`).
    public var tasksEvicted: Int
    /// Bytes the held tasks take by the store's count (``TaskStore/approximateBytes``).
    public var taskBytes: Int
    /// Events the feed dropped because the model fell behind (``ClusterState/droppedEvents``).
    public var eventsDropped: Int
    /// Tasks that succeeded in each of the last 60 seconds, oldest first (60 values).
    public var succeededPerSecond: [Int]
    /// Tasks that failed in each of the last 60 seconds, oldest first (60 values).
    public var failedPerSecond: [Int]

    /// Creates a summary.
    public init(
        workersOnline: Int, workersTotal: Int, tasksPerSecond: Double, tasksPerSecondLastMinute: Double,
        tasksPerSecondLast15Minutes: Double, failuresPerMinute: Int, eventsPerSecond: Double, totalEvents: Int,
        tasksHeld: Int, tasksEvicted: Int, taskBytes: Int = 0, eventsDropped: Int = 0, succeededPerSecond: [Int],
        failedPerSecond: [Int]
    ) {
        self.workersOnline = workersOnline
        self.workersTotal = workersTotal
        self.tasksPerSecond = tasksPerSecond
        self.tasksPerSecondLastMinute = tasksPerSecondLastMinute
        self.tasksPerSecondLast15Minutes = tasksPerSecondLast15Minutes
        self.failuresPerMinute = failuresPerMinute
        self.eventsPerSecond = eventsPerSecond
        self.totalEvents = totalEvents
        self.tasksHeld = tasksHeld
        self.tasksEvicted = tasksEvicted
        self.taskBytes = taskBytes
        self.eventsDropped = eventsDropped
        self.succeededPerSecond = succeededPerSecond
        self.failedPerSecond = failedPerSecond
    }
}
