/// Per-task settings with Celery's names and defaults (`@app.task(max_retries=…, acks_late=…)`).
public struct TaskOptions: Sendable, Hashable {
    /// `max_retries`: retries allowed before ``TaskContext/retry(countdown:eta:maxRetries:error:)``
    /// gives up with `MaxRetriesExceededError` (or the error it was given); `nil` retries forever.
    public var maxRetries: Int? = 3
    /// `default_retry_delay`: seconds before a retry when neither a countdown nor backoff says otherwise.
    public var defaultRetryDelay: Double = 180
    /// `autoretry_for`: exception type names (`TaskError.type`, or a Swift error's type name) that
    /// retry the task instead of failing it.
    public var autoretryFor: [String] = []
    /// `retry_backoff`: when set, autoretries wait `factor × 2^retries` seconds (capped by
    /// ``retryBackoffMax``); `nil` (Celery's `False`) uses ``defaultRetryDelay``.
    public var retryBackoff: Double? = nil
    /// `retry_backoff_max`: the cap on backoff delays, 600 s as in Celery.
    public var retryBackoffMax: Double = 600
    /// `retry_jitter`: pick the backoff delay at random between 0 and the computed one (on by default).
    public var retryJitter: Bool = true
    /// `acks_late`: ack after the task ran instead of when it starts, so a worker killed mid-task
    /// leaves the message to be restored and run again.
    public var acksLate: Bool = false
    /// `reject_on_worker_lost`: with ``acksLate``, a task whose pool process died (`--pool
    /// process`) goes back to its queue instead of failing with `WorkerLostError` (the worker
    /// dead-letters it after a few such losses, so a task that always crashes cannot loop).
    public var rejectOnWorkerLost: Bool = false
    /// `ignore_result`: store no result at all.
    public var ignoreResult: Bool = false
    /// `track_started`: store STARTED when the task starts.
    public var trackStarted: Bool = false

    public init(maxRetries: Int? = 3, defaultRetryDelay: Double = 180, autoretryFor: [String] = [], retryBackoff: Double? = nil,
                retryBackoffMax: Double = 600, retryJitter: Bool = true, acksLate: Bool = false, ignoreResult: Bool = false,
                trackStarted: Bool = false, rejectOnWorkerLost: Bool = false) {
        self.maxRetries = maxRetries
        self.defaultRetryDelay = defaultRetryDelay
        self.autoretryFor = autoretryFor
        self.retryBackoff = retryBackoff
        self.retryBackoffMax = retryBackoffMax
        self.retryJitter = retryJitter
        self.acksLate = acksLate
        self.ignoreResult = ignoreResult
        self.trackStarted = trackStarted
        self.rejectOnWorkerLost = rejectOnWorkerLost
    }

    /// Seconds before the next automatic retry, as Celery's `get_exponential_backoff_interval`:
    /// `min(max, factor × 2^retries)`, then with jitter a whole number drawn from `0…that`.
    public func autoretryDelay(retries: Int, random: (ClosedRange<Int>) -> Int = { Int.random(in: $0) }) -> Double {
        guard let factor = retryBackoff else { return defaultRetryDelay }
        // `retries` is the message's header: any Int, negative included (read as 0).
        let exponent = Double(min(max(retries, 0), 62))
        let countdown = min(retryBackoffMax, factor * pow2(exponent))
        guard retryJitter else { return countdown }
        // Clamped into 0...Int.max so a negative or non-finite setting cannot trap the worker.
        let whole = countdown.isNaN ? 0 : min(max(countdown, 0), 9.0e18).rounded(.down)
        return Double(random(0...Int(whole)))
    }

    private func pow2(_ e: Double) -> Double {
        var v = 1.0
        for _ in 0..<Int(e) { v *= 2 }
        return v
    }
}
