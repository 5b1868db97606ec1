public import Celeriac

/// The cluster as seen through its events: workers, tasks, per-name statistics, failure
/// groups and queue depths. The model behind every qmon screen.
///
/// A plain value with no I/O and no clock: the monitor loop applies each decoded event with
/// the local time it was received (``apply(_:receivedAt:)``) and asks time-dependent questions
/// with the current time (``summary(now:)``, ``onlineWorkers(now:)``). All times are epoch
/// seconds (`Double`) of one local clock, except the sender timestamps stored in records,
/// which are the sender's clock corrected by its `utcoffset`
/// (``Celeriac/CeleryEvent/adjustedTimestamp(localOffset:)``).
///
/// It imitates Celery 5.7's `celery.events.state.State.event()`: events may arrive late, twice
/// or out of order, and the result is the same (see ``TaskRecord`` for the task merge rule and
/// ``WorkerState`` for liveness). Everything is bounded: tasks by
/// ``Configuration/maxTasks`` (oldest evicted first), workers, task names and failure groups
/// by their own limits, per-second rates by their window.
public struct ClusterState: Sendable {
    /// Limits and the local UTC offset.
    public struct Configuration: Sendable, Hashable {
        /// Most tasks kept (`--max-tasks`), 100,000 by default.
        public var maxTasks: Int
        /// Most workers kept, 5,000 by default (Celery's `max_workers_in_memory`); the least
        /// recently seen goes first.
        public var maxWorkers: Int
        /// Most task names with their own ``TaskTypeStats``; later names are pooled under
        /// ``ClusterState/otherTaskTypesName``.
        public var maxTaskTypes: Int
        /// Most ``FailureGroups`` groups.
        public var maxFailureGroups: Int
        /// Events kept per task in ``TaskRecord/timeline``.
        public var timelineLength: Int
        /// This monitor's offset in Celery's convention (hours *west* of UTC), to correct
        /// sender timestamps; pass ``Celeriac/CeleryEvent/localUTCOffset(timeZone:at:)``.
        public var localUTCOffset: Double

        /// Creates a configuration.
        public init(
            maxTasks: Int = 100_000, maxWorkers: Int = 5_000, maxTaskTypes: Int = 256,
            maxFailureGroups: Int = 1_000, timelineLength: Int = 16, localUTCOffset: Double = 0
        ) {
            self.maxTasks = maxTasks
            self.maxWorkers = maxWorkers
            self.maxTaskTypes = maxTaskTypes
            self.maxFailureGroups = maxFailureGroups
            self.timelineLength = timelineLength
            self.localUTCOffset = localUTCOffset
        }
    }

    /// The name under which task names beyond ``Configuration/maxTaskTypes`` are counted.
    public static let otherTaskTypesName = "(other)"

    /// The limits this state was created with.
    public let configuration: Configuration
    /// Workers by node name, online or not.
    public private(set) var workers: [String: WorkerState] = [:]
    /// The bounded task store.
    public private(set) var tasks: TaskStore
    /// Statistics per task name.
    public private(set) var taskTypes: [String: TaskTypeStats] = [:]
    /// Failures by task name and exception type.
    public private(set) var failures: FailureGroups
    /// The latest queue samples, sorted by name.
    public private(set) var queues: [QueueSample] = []
    /// Local time of the latest ``updateQueues(_:at:)``.
    public private(set) var queuesUpdatedAt: Double?
    /// Events applied since start, of any type (Celery's `event_count`).
    public private(set) var eventCount = 0
    /// Events applied per second of receive time.
    public private(set) var eventRate = RateWindow()
    /// Tasks that reached SUCCESS, per second (each task once).
    public private(set) var succeededRate = RateWindow()
    /// Tasks that reached FAILURE, per second (each task once).
    public private(set) var failedRate = RateWindow()
    /// The monitor's Lamport clock, adjusted by every event as Celery's receiver does.
    public private(set) var clock = LamportClock()

    private var interner = StringInterner()
    /// The worker of the latest task event and its place in ``workers``, and the same for the
    /// latest task name in ``taskTypes``: consecutive events mostly share both, and comparing
    /// a name is cheaper than hashing it. Reset whenever an entry is added or removed (which
    /// moves places).
    private var lastWorker: (hostname: String, index: Dictionary<String, WorkerState>.Index)?
    private var lastTaskType: (name: String, index: Dictionary<String, TaskTypeStats>.Index)?

    /// Creates an empty state.
    ///
    /// - Parameter configuration: Limits and the local UTC offset.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.tasks = TaskStore(capacity: configuration.maxTasks)
        self.failures = FailureGroups(capacity: configuration.maxFailureGroups)
    }

    // MARK: Applying events

    /// Applies one event.
    ///
    /// Task events update their ``TaskRecord`` (creating it if new), their name's
    /// ``TaskTypeStats``, ``failures`` and the sending worker's liveness; worker events update
    /// ``workers``; other events are only counted.
    /// - Parameters:
    ///   - event: A decoded event.
    ///   - receivedAt: Local time it was received, epoch seconds (Celery's `local_received`).
    public mutating func apply(_ event: CeleryEvent, receivedAt: Double) {
        eventCount += 1
        eventRate.record(at: receivedAt)
        let observedClock = clock.observe(event)
        let timestamp = event.adjustedTimestamp(localOffset: configuration.localUTCOffset)
        switch event.kind {
        case .workerOnline, .workerHeartbeat, .workerOffline:
            applyWorker(event, timestamp: timestamp, clock: observedClock, receivedAt: receivedAt)
        case .taskSent, .taskReceived, .taskStarted, .taskSucceeded, .taskFailed, .taskRetried, .taskRevoked,
            .taskRejected:
            if let fields = event.task {
                applyTask(event, fields: fields, timestamp: timestamp, clock: observedClock, receivedAt: receivedAt)
            }
        case .other(let type):
            if type.hasPrefix("task-"), let fields = event.task {
                applyTask(event, fields: fields, timestamp: timestamp, clock: observedClock, receivedAt: receivedAt)
            } else if type.hasPrefix("worker-"), event.worker != nil {
                applyWorker(event, timestamp: timestamp, clock: observedClock, receivedAt: receivedAt)
            }
        }
    }

    /// Applies events received together (one `task.multi` batch), in order.
    ///
    /// - Parameters:
    ///   - events: The events, in the order sent.
    ///   - receivedAt: Local time they were received.
    public mutating func apply(contentsOf events: some Sequence<CeleryEvent>, receivedAt: Double) {
        for e in events { apply(e, receivedAt: receivedAt) }
    }

    private mutating func applyWorker(_ event: CeleryEvent, timestamp: Double?, clock: Int, receivedAt: Double) {
        // Celery ignores worker events without a hostname.
        guard let hostname = event.hostname, let fields = event.worker else { return }
        lastWorker = nil
        if workers[hostname] == nil {
            // Celery does not remember a worker it first hears of through worker-offline.
            if event.kind == .workerOffline { return }
            insertWorker(WorkerState(hostname: interner(hostname)))
        }
        workers[hostname]?.apply(
            event.kind, event: event, fields: fields, timestamp: timestamp, clock: clock, receivedAt: receivedAt)
    }

    private mutating func insertWorker(_ worker: WorkerState) {
        lastWorker = nil
        if workers.count >= configuration.maxWorkers,
            let stalest = workers.values.min(by: { ($0.lastSeen ?? -.infinity) < ($1.lastSeen ?? -.infinity) })
        {
            workers.removeValue(forKey: stalest.hostname)
        }
        workers[worker.hostname] = worker
    }

    private mutating func applyTask(
        _ event: CeleryEvent, fields: TaskEventFields, timestamp: Double?, clock: Int, receivedAt: Double
    ) {
        let kind = event.kind
        let hostname = event.hostname.map { interner($0) }
        // Task events are signs of life of the worker that sent them (not of task-sent's client).
        if kind != .taskSent, let hostname {
            // At most one lookup, and no copy of the worker: this runs for every task event.
            let i: Dictionary<String, WorkerState>.Index
            if let last = lastWorker, last.hostname == hostname {
                i = last.index
            } else {
                if workers.index(forKey: hostname) == nil { insertWorker(WorkerState(hostname: hostname)) }
                i = workers.index(forKey: hostname)!
                lastWorker = (hostname, i)
            }
            workers.values[i].noteTaskEvent(timestamp: timestamp, receivedAt: receivedAt)
        }

        let position = tasks.position(of: fields.uuid, insertingAt: receivedAt)
        // One in-place access to the record for the merge and the statistics: reading its
        // name and state through the store's getter copied the whole record.
        Self.merge(
            &tasks[position: position], kind, fields: fields, timestamp: timestamp, hostname: hostname,
            clock: clock, receivedAt: receivedAt, configuration: configuration, interner: &interner,
            taskTypes: &taskTypes, lastTaskType: &lastTaskType, failures: &failures, succeeded: &succeededRate, failed: &failedRate)
    }

    private static func merge(
        _ r: inout TaskRecord, _ kind: CeleryEventKind, fields: TaskEventFields, timestamp: Double?,
        hostname: String?, clock: Int, receivedAt: Double, configuration: Configuration,
        interner: inout StringInterner, taskTypes: inout [String: TaskTypeStats],
        lastTaskType: inout (name: String, index: Dictionary<String, TaskTypeStats>.Index)?,
        failures: inout FailureGroups, succeeded: inout RateWindow, failed: inout RateWindow
    ) {
        let oldName = r.name
        let oldState = r.state
        r.merge(
            kind, fields: fields, timestamp: timestamp, hostname: hostname, clock: clock, receivedAt: receivedAt,
            timelineLength: configuration.timelineLength, intern: &interner)
        account(
            &r, oldName: oldName, oldState: oldState, at: receivedAt,
            taskTypes: &taskTypes, lastTaskType: &lastTaskType, maxTaskTypes: configuration.maxTaskTypes,
            failures: &failures, succeeded: &succeeded, failed: &failed)
    }

    /// Updates the statistics a task's change feeds: per-name state counts (every change), and
    /// once per task the success/failure rates, run time and failure group.
    private static func account(
        _ r: inout TaskRecord, oldName: String?, oldState: TaskState, at time: Double,
        taskTypes: inout [String: TaskTypeStats],
        lastTaskType: inout (name: String, index: Dictionary<String, TaskTypeStats>.Index)?, maxTaskTypes: Int,
        failures: inout FailureGroups, succeeded: inout RateWindow, failed: inout RateWindow
    ) {
        let name = r.name
        let state = r.state
        // The name's statistics, found once (one hash of the name per event, no copies); a
        // new name is added here, so later steps never need `default:`.
        var statsIndex: Dictionary<String, TaskTypeStats>.Index?
        if let name {
            if let last = lastTaskType, last.name == name {
                statsIndex = last.index
            } else {
                let i = Self.statsIndex(for: name, in: &taskTypes, max: maxTaskTypes)
                lastTaskType = (name, i)
                statsIndex = i
            }
        }
        if oldName != name || oldState != state {
            if let oldName, oldName == name, let statsIndex {
                taskTypes.values[statsIndex].move(from: oldState, to: state)
            } else {
                if let oldName, let i = taskTypes.index(forKey: statsKey(oldName, in: taskTypes, max: maxTaskTypes)) {
                    taskTypes.values[i].move(from: oldState, to: nil)
                }
                if let statsIndex {
                    taskTypes.values[statsIndex].move(from: nil, to: state)
                }
            }
        }

        if state == .success, !r.accounted.contains(.succeeded) {
            r.accounted.insert(.succeeded)
            succeeded.record(at: time)
        }
        if state == .failure, !r.accounted.contains(.failed) {
            r.accounted.insert(.failed)
            failed.record(at: time)
        }
        if let statsIndex {
            if state == .success, !r.accounted.contains(.typeSucceeded) {
                r.accounted.insert(.typeSucceeded)
                taskTypes.values[statsIndex].recordSucceeded(at: time)
            }
            if state == .failure, !r.accounted.contains(.typeFailed) {
                r.accounted.insert(.typeFailed)
                taskTypes.values[statsIndex].recordFailed(taskID: r.uuid, exception: r.exception, at: time)
            }
            if let runtime = r.runtime, !r.accounted.contains(.runtime) {
                r.accounted.insert(.runtime)
                taskTypes.values[statsIndex].recordRuntime(seconds: runtime)
            }
        }
        if state == .failure {
            if !r.accounted.contains(.failure) {
                r.accounted.insert(.failure)
                if name != nil { r.accounted.insert(.failureNamed) }
                failures.record(
                    taskName: name, exception: r.exception, traceback: r.traceback, taskID: r.uuid, at: time)
            } else if let name, !r.accounted.contains(.failureNamed) {
                r.accounted.insert(.failureNamed)
                failures.assignName(name, exception: r.exception, traceback: r.traceback, taskID: r.uuid, at: time)
            }
        }
    }

    /// `name`, or ``otherTaskTypesName`` once ``Configuration/maxTaskTypes`` names have stats.
    private static func statsKey(_ name: String, in taskTypes: [String: TaskTypeStats], max: Int) -> String {
        if taskTypes.index(forKey: name) != nil || taskTypes.count < max { return name }
        return otherTaskTypesName
    }

    /// Where the statistics of `name` (or of ``otherTaskTypesName`` when the names are
    /// full) are, created empty if new.
    private static func statsIndex(
        for name: String, in taskTypes: inout [String: TaskTypeStats], max: Int
    ) -> Dictionary<String, TaskTypeStats>.Index {
        if let i = taskTypes.index(forKey: name) { return i }
        let key = taskTypes.count < max ? name : otherTaskTypesName
        if let i = taskTypes.index(forKey: key) { return i }
        taskTypes[key] = TaskTypeStats(name: key)
        return taskTypes.index(forKey: key)!
    }

    // MARK: Other inputs

    /// Replaces the queue depths with the poller's latest samples.
    ///
    /// - Parameters:
    ///   - samples: One sample per queue.
    ///   - now: Local time of the poll.
    public mutating func updateQueues(_ samples: [QueueSample], at now: Double) {
        queues = samples.sorted { $0.name < $1.name }
        queuesUpdatedAt = now
    }

    /// Merges a worker's `inspect stats` reply (``WorkerState/merge(stats:)``).
    ///
    /// - Parameters:
    ///   - stats: The reply object under the worker's node name.
    ///   - hostname: The worker's node name.
    /// - Returns: Whether the worker is known (unknown workers are not created).
    @discardableResult
    public mutating func mergeStats(_ stats: JSONValue, hostname: String) -> Bool {
        guard workers[hostname] != nil else { return false }
        lastWorker = nil
        workers[hostname]?.merge(stats: stats)
        return true
    }

    /// Records that the monitor re-sent task `original` as task `resent`
    /// (``TaskRecord/retriedAs`` and ``TaskRecord/retryOf``), for whichever of the two is held.
    ///
    /// - Parameters:
    ///   - original: The failed task's id.
    ///   - resent: The new task's id; a PENDING placeholder is created if its events have not arrived yet.
    ///   - now: Local time of the re-send.
    public mutating func linkRetry(original: String, resent: String, at now: Double) {
        tasks.update(original) { $0.retriedAs = resent }
        if !tasks.contains(resent) {
            _ = tasks.append(TaskRecord(uuid: resent, receivedAt: now))
        }
        tasks.update(resent) { $0.retryOf = original }
    }

    // MARK: Questions

    /// Workers online at `now`, by node name.
    ///
    /// - Parameter now: Current local time, epoch seconds.
    public func onlineWorkers(now: Double) -> [WorkerState] {
        workers.values.filter { $0.isOnline(now: now) }.sorted { $0.hostname < $1.hostname }
    }

    /// Every known worker, by node name.
    public var workersByName: [WorkerState] { workers.values.sorted { $0.hostname < $1.hostname } }

    /// Statistics of every task name, by name.
    public var taskTypesByName: [TaskTypeStats] { taskTypes.values.sorted { $0.name < $1.name } }

    /// The overview at `now`.
    ///
    /// - Parameter now: Current local time, epoch seconds.
    public func summary(now: Double) -> ClusterSummary {
        var online = 0
        for w in workers.values where w.isOnline(now: now) { online += 1 }
        let completed = { (s: Int) in
            self.succeededRate.rate(over: s, now: now) + self.failedRate.rate(over: s, now: now)
        }
        return ClusterSummary(
            workersOnline: online, workersTotal: workers.count,
            tasksPerSecond: completed(1), tasksPerSecondLastMinute: completed(60),
            tasksPerSecondLast15Minutes: completed(900),
            failuresPerMinute: failedRate.count(last: 60, now: now),
            eventsPerSecond: eventRate.rate(over: 1, now: now), totalEvents: eventCount,
            tasksHeld: tasks.count, tasksEvicted: tasks.evictedCount,
            succeededPerSecond: succeededRate.series(last: 60, now: now),
            failedPerSecond: failedRate.series(last: 60, now: now))
    }
}
