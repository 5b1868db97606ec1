/// The latest depth of one broker queue, as the queue poller measured it.
///
/// Kombu's Redis transport keeps one list per priority step (`celery`, `celery\x06\x163`,
/// `celery\x06\x166`, `celery\x06\x169`); ``depths`` has one entry per list polled. The
/// polling itself is I/O done elsewhere: the model only holds the values
/// (``ClusterState/updateQueues(_:at:)``).
public struct QueueSample: Sendable, Hashable {
    /// Messages waiting in one priority list of a queue.
    public struct PriorityDepth: Sendable, Hashable {
        /// The priority step of the list (0 for the plain queue name, then 3, 6, 9).
        public var priority: Int
        /// `LLEN` of that list.
        public var depth: Int

        /// Creates a depth.
        public init(priority: Int, depth: Int) {
            self.priority = priority
            self.depth = depth
        }
    }

    /// The queue name, e.g. `"celery"`.
    public var name: String
    /// Depth of each priority list, in priority order.
    public var depths: [PriorityDepth]
    /// How long the oldest waiting message has waited, in seconds, when the poller could tell.
    public var oldestMessageAge: Double?
    /// The id of the task the next `BRPOP` would take (the oldest message of the most urgent
    /// non-empty priority list), when the poller could read it. The feed cannot tell how long a
    /// message has waited (protocol v2 carries no send time), so the screen derives the wait
    /// from that task's ``TaskRecord/sentAt`` when its `task-sent` event was seen.
    public var oldestTaskID: String?
    /// Local time the sample was taken, epoch seconds.
    public var sampledAt: Double

    /// Messages waiting over all priority lists.
    public var total: Int { depths.reduce(0) { $0 + $1.depth } }

    /// Creates a sample.
    ///
    /// - Parameters:
    ///   - name: The queue name.
    ///   - depths: Depth per priority list.
    ///   - oldestMessageAge: Seconds the oldest message has waited, if known.
    ///   - sampledAt: Local time of the measurement.
    ///   - oldestTaskID: The id of the next message a worker would take, if known.
    public init(
        name: String, depths: [PriorityDepth], oldestMessageAge: Double? = nil, sampledAt: Double,
        oldestTaskID: String? = nil
    ) {
        self.name = name
        self.depths = depths
        self.oldestMessageAge = oldestMessageAge
        self.sampledAt = sampledAt
        self.oldestTaskID = oldestTaskID
    }
}
