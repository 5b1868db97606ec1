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
/// ``WorkerState`` for liveness). Everything is bounded, in bytes as well as in entries: tasks
/// by ``Configuration/maxTasks`` and ``Configuration/maxTaskBytes`` (oldest evicted first),
/// each stored text by ``Configuration/maxFieldBytes`` and each name or hostname by
/// ``Configuration/maxNameBytes`` (the rest is cut off, and the record says so), workers by
/// ``Configuration/maxWorkers`` (offline and least recently seen evicted first), task names
/// and failure groups by their own limits, per-second rates by their window.
public struct ClusterState: Sendable {
    /// Limits and the local UTC offset.
    public struct Configuration: Sendable, Hashable {
        /// Most tasks kept (`--max-tasks`), 100,000 by default.
        public var maxTasks: Int
        /// Most bytes the held tasks take by ``TaskStore/approximateBytes`` (`--max-task-memory`),
        /// 128 MiB by default; the oldest tasks are evicted beyond it.
        public var maxTaskBytes: Int
        /// Most bytes kept of each task's args, kwargs, result, exception and traceback
        /// (`--max-field-bytes`), 16 KiB by default; ``TaskRecord/originalByteCount(of:)`` tells
        /// the original size of a text cut short.
        public var maxFieldBytes: Int
        /// Most bytes kept of a task id, task name, hostname, queue or ETA text, 1 KiB by default
        /// (real ones are far shorter; this bounds garbage; ids that differ only beyond it are
        /// one task to the monitor).
        public var maxNameBytes: Int
        /// Most workers kept (`--max-workers`), 5,000 by default (Flower's `max_workers`, Celery's
        /// `max_workers_in_memory`); offline ones go first, then the least recently seen.
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
            maxTasks: Int = 100_000, maxTaskBytes: Int = Self.defaultMaxTaskBytes,
            maxFieldBytes: Int = Self.defaultMaxFieldBytes, maxNameBytes: Int = 1_024, maxWorkers: Int = 5_000,
            maxTaskTypes: Int = 256, maxFailureGroups: Int = 1_000, timelineLength: Int = 16,
            localUTCOffset: Double = 0
        ) {
            self.maxTasks = maxTasks
            self.maxTaskBytes = maxTaskBytes
            self.maxFieldBytes = max(maxFieldBytes, 0)
            self.maxNameBytes = max(maxNameBytes, 16)
            self.maxWorkers = max(maxWorkers, 1)
            self.maxTaskTypes = maxTaskTypes
            self.maxFailureGroups = maxFailureGroups
            self.timelineLength = timelineLength
            self.localUTCOffset = localUTCOffset
        }

        /// 128 MiB: 100,000 ordinary tasks take about 80 MiB by the store's count.
        public static let defaultMaxTaskBytes = 128 << 20
        /// 16 KiB: a long traceback fits, a 100 KB argument repr does not.
        public static let defaultMaxFieldBytes = 16 << 10

        var textLimits: TaskRecord.TextLimits { .init(fieldBytes: maxFieldBytes, nameBytes: maxNameBytes) }
    }

    /// The name under which task names beyond ``Configuration/maxTaskTypes`` are counted.
    public static let otherTaskTypesName = "(other)"

    /// The limits this state was created with.
    public let configuration: Configuration
    /// Workers by node name, online or not.
    public private(set) var workers: [String: WorkerState] = [:]
    /// The bounded task store.
    public internal(set) var tasks: TaskStore
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
    /// Events the feed dropped before they reached the model because it fell behind
    /// (``MonitorInput/dropped(events:)``).
    public private(set) var droppedEvents = 0
    /// Workers evicted because ``Configuration/maxWorkers`` were known.
    public private(set) var evictedWorkers = 0
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
        self.tasks = TaskStore(capacity: configuration.maxTasks, byteBudget: configuration.maxTaskBytes)
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
        // Saturates at Int.max: a `clock` holds whatever integer its sender wrote.
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
        guard let sent = event.hostname, let fields = event.worker else { return }
        let hostname = StoredText.prefix(sent, bytes: configuration.maxNameBytes)
        lastWorker = nil
        if workers[hostname] == nil {
            // Celery does not remember a worker it first hears of through worker-offline.
            if event.kind == .workerOffline { return }
            insertWorker(WorkerState(hostname: interner(hostname)), now: receivedAt)
        }
        workers[hostname]?.apply(
            event.kind, event: event, fields: fields, timestamp: timestamp, clock: clock, receivedAt: receivedAt)
    }

    /// Adds a worker, evicting first when ``Configuration/maxWorkers`` are known: offline
    /// workers (by `worker-offline` or expired heartbeats) before online ones, each the least
    /// recently seen first.
    ///
    /// A full table evicts a sixteenth of itself at once, so a flood of new hostnames costs one
    /// sort per sixteenth of the cap rather than a scan of every worker per new one.
    private mutating func insertWorker(_ worker: WorkerState, now: Double) {
        lastWorker = nil
        if workers.count >= configuration.maxWorkers {
            let excess = workers.count - configuration.maxWorkers + 1
            let batch = max(excess, configuration.maxWorkers / 16)
            let order = workers.values.map { w in (online: w.isOnline(now: now), seen: w.lastSeen ?? -.infinity, w.hostname) }
                .sorted { ($0.online ? 1 : 0, $0.seen) < ($1.online ? 1 : 0, $1.seen) }
            for victim in order.prefix(batch) { workers.removeValue(forKey: victim.2) }
            evictedWorkers += min(batch, order.count)
        }
        workers[worker.hostname] = worker
    }

    private mutating func applyTask(
        _ event: CeleryEvent, fields: TaskEventFields, timestamp: Double?, clock: Int, receivedAt: Double
    ) {
        let kind = event.kind
        let hostname = event.hostname.map { interner(StoredText.prefix($0, bytes: configuration.maxNameBytes)) }
        // Task events are signs of life of the worker that sent them (not of task-sent's client).
        if kind != .taskSent, let hostname {
            // At most one lookup, and no copy of the worker: this runs for every task event.
            let i: Dictionary<String, WorkerState>.Index
            if let last = lastWorker, last.hostname == hostname {
                i = last.index
            } else {
                if workers.index(forKey: hostname) == nil {
                    insertWorker(WorkerState(hostname: hostname), now: receivedAt)
                }
                i = workers.index(forKey: hostname)!
                lastWorker = (hostname, i)
            }
            workers.values[i].noteTaskEvent(timestamp: timestamp, receivedAt: receivedAt)
        }

        // An id is kept to maxNameBytes like a name: failure groups and per-name statistics
        // keep the id of their latest task after the store evicted it.
        let position = tasks.position(of: StoredText.prefix(fields.uuid, bytes: configuration.maxNameBytes), insertingAt: receivedAt)
        // One in-place access to the record for the merge and the statistics: reading its
        // name and state through the store's getter copied the whole record.
        let grown = Self.merge(
            &tasks[position: position], kind, fields: fields, timestamp: timestamp, hostname: hostname,
            clock: clock, receivedAt: receivedAt, configuration: configuration, interner: &interner,
            taskTypes: &taskTypes, lastTaskType: &lastTaskType, failures: &failures, succeeded: &succeededRate, failed: &failedRate)
        tasks.heapBytesChanged(by: grown)
        if tasks.isOverBudget { tasks.evictOverBudget() }
    }

    private static func merge(
        _ r: inout TaskRecord, _ kind: CeleryEventKind, fields: TaskEventFields, timestamp: Double?,
        hostname: String?, clock: Int, receivedAt: Double, configuration: Configuration,
        interner: inout StringInterner, taskTypes: inout [String: TaskTypeStats],
        lastTaskType: inout (name: String, index: Dictionary<String, TaskTypeStats>.Index)?,
        failures: inout FailureGroups, succeeded: inout RateWindow, failed: inout RateWindow
    ) -> Int {
        let oldName = r.name
        let oldState = r.state
        r.merge(
            kind, fields: fields, timestamp: timestamp, hostname: hostname, clock: clock, receivedAt: receivedAt,
            timelineLength: configuration.timelineLength, limits: configuration.textLimits, intern: &interner)
        account(
            &r, oldName: oldName, oldState: oldState, at: receivedAt,
            taskTypes: &taskTypes, lastTaskType: &lastTaskType, maxTaskTypes: configuration.maxTaskTypes,
            failures: &failures, succeeded: &succeeded, failed: &failed)
        // Counted here, in the same access to the record, for the store's byte budget.
        return r.recount()
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

    /// Counts events the feed dropped before they reached the model.
    ///
    /// - Parameter count: How many (negative counts are ignored).
    public mutating func noteDropped(events count: Int) {
        droppedEvents += max(count, 0)
    }

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
            tasksHeld: tasks.count, tasksEvicted: tasks.evictedCount, taskBytes: tasks.approximateBytes,
            eventsDropped: droppedEvents,
            succeededPerSecond: succeededRate.series(last: 60, now: now),
            failedPerSecond: failedRate.series(last: 60, now: now))
    }
}
