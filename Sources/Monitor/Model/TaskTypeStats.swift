public import Celeriac
public import Histogram

/// Statistics for one task name: tasks per current state, completion rates, run time
/// percentiles and the last error.
///
/// ``count(in:)`` counts every task of this name seen since the monitor started by its
/// *current* state (a task moves from RECEIVED to STARTED to SUCCESS, so it is counted once,
/// in SUCCESS); evicting a task from ``TaskStore`` does not uncount it. Rates and the run time
/// histogram take each task once, however often or late its events arrive.
public struct TaskTypeStats: Sendable, Equatable {
    /// The task name.
    public let name: String
    /// Tasks by current state, indexed by ``stateSlot(_:)``.
    private var counts: [Int] = Array(repeating: 0, count: 8)
    /// Tasks that reached SUCCESS, per second of local receive time.
    public private(set) var succeeded = RateWindow()
    /// Tasks that reached FAILURE, per second of local receive time.
    public private(set) var failed = RateWindow()
    /// Run times in microseconds, 3 significant digits, auto-resizing (values clamped to 1 µs…1 day).
    public private(set) var runtimes = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
    /// The latest failure of a task of this name.
    public private(set) var lastError: LastError?

    /// The latest failure of a task name.
    public struct LastError: Sendable, Hashable {
        /// `repr` of the exception, e.g. `"ValueError('boom')"`.
        public let exception: String
        /// The task that failed.
        public let taskID: String
        /// Local receive time of the `task-failed` event.
        public let at: Double
    }

    /// Run time percentiles, in seconds.
    public struct RuntimePercentiles: Sendable, Hashable {
        /// Median.
        public let p50: Double
        /// 95th percentile.
        public let p95: Double
        /// 99th percentile.
        public let p99: Double
        /// Largest recorded.
        public let max: Double
        /// Number of run times recorded.
        public let count: Int
    }

    /// Creates empty statistics for a task name.
    public init(name: String) { self.name = name }

    /// Tasks of this name now in `state`.
    public func count(in state: TaskState) -> Int { counts[Self.stateSlot(state)] }

    /// Tasks of this name seen (sum over states).
    public var total: Int { counts.reduce(0, +) }

    /// Completed tasks (SUCCESS + FAILURE) per second over the `seconds` complete seconds before `now`.
    ///
    /// - Parameters:
    ///   - seconds: 1, 60 or 900 (anything up to 900).
    ///   - now: Current local time, epoch seconds.
    public func completedRate(over seconds: Int, now: Double) -> Double {
        succeeded.rate(over: seconds, now: now) + failed.rate(over: seconds, now: now)
    }

    /// p50, p95, p99 and max run time in seconds; `nil` before the first recorded run time.
    public var runtimePercentiles: RuntimePercentiles? {
        guard runtimes.totalCount > 0 else { return nil }
        return RuntimePercentiles(
            p50: Double(runtimes.valueAtPercentile(50)) / 1e6,
            p95: Double(runtimes.valueAtPercentile(95)) / 1e6,
            p99: Double(runtimes.valueAtPercentile(99)) / 1e6,
            max: Double(runtimes.max) / 1e6,
            count: Int(runtimes.totalCount))
    }

    // MARK: Updates (for ClusterState)

    mutating func move(from old: TaskState?, to new: TaskState?) {
        if let old { counts[Self.stateSlot(old)] -= 1 }
        if let new { counts[Self.stateSlot(new)] += 1 }
    }

    mutating func recordSucceeded(at time: Double) { succeeded.record(at: time) }

    mutating func recordFailed(taskID: String, exception: String?, at time: Double) {
        failed.record(at: time)
        lastError = LastError(exception: exception ?? "", taskID: taskID, at: time)
    }

    mutating func recordRuntime(seconds: Double) {
        guard seconds.isFinite else { return }
        let micros = (seconds * 1e6).rounded()
        let clamped = UInt64(min(max(micros, 1), 86_400e6))
        runtimes.record(clamped)
    }

    static func stateSlot(_ state: TaskState) -> Int {
        switch state {
        case .pending: 0
        case .received: 1
        case .started: 2
        case .success: 3
        case .failure: 4
        case .retry: 5
        case .revoked: 6
        case .rejected: 7
        }
    }
}
