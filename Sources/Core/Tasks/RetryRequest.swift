public import Foundation

/// Thrown by a task to be run again later, like Celery's `self.retry()`: the worker re-sends the
/// message with the same id, `retries + 1` and an ETA, stores RETRY, and emits `task-retried`.
///
/// Build it with ``TaskContext/retry(countdown:eta:maxRetries:error:)``, which already applies
/// `max_retries`.
public struct RetryRequest: Error, Sendable {
    /// When to run again.
    public let eta: Date
    /// Why: recorded as the RETRY result's exception and in `task-retried`.
    public let reason: TaskError

    /// A retry at `eta` for `reason`, as ``TaskContext/retry(countdown:eta:maxRetries:error:)``
    /// builds it (a process-pool worker rebuilds the one its child reported).
    public init(eta: Date, reason: TaskError) {
        self.eta = eta
        self.reason = reason
    }
}

extension TaskContext {
    /// Asks for this task to run again, as Celery's `self.retry()`.
    ///
    /// ```swift
    /// guard let page = try? await fetch(url) else { throw TaskContext.current!.retry(countdown: 10) }
    /// ```
    /// - Parameters:
    ///   - countdown: seconds from now; default `default_retry_delay` of the task.
    ///   - eta: an absolute time instead of a countdown.
    ///   - maxRetries: overrides the task's `max_retries` for this call.
    ///   - error: what went wrong; recorded with the retry, and raised as the failure once retries run out.
    /// - Returns: the error to throw: a ``RetryRequest``, or when retries are exhausted the given
    ///   error (or `MaxRetriesExceededError`), so the task then fails as Celery's does.
    public func retry(countdown: Double? = nil, eta: Date? = nil, maxRetries: Int? = nil, error: (any Error)? = nil) -> any Error {
        let limit = maxRetries ?? options.maxRetries
        if let limit, retries >= limit {
            if let error { return error }
            return TaskError(type: "MaxRetriesExceededError",
                             arguments: [.string("Can't retry \(name)[\(id)] args:\(argsRepr) kwargs:\(kwargsRepr)")],
                             module: "celery.exceptions")
        }
        let when = eta ?? Date().addingTimeInterval(countdown ?? options.defaultRetryDelay)
        let reason = error.map(TaskError.from) ?? TaskError(type: "Retry", arguments: [.string("Retry in \(Int(exactly: when.timeIntervalSinceNow.rounded()) ?? Int.max)s")], module: "celery.exceptions")
        return RetryRequest(eta: when, reason: reason)
    }
}
