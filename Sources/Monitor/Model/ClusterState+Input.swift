/// Applying the feed's inputs: the one switch over ``MonitorInput`` that the dashboard loop
/// and the headless commands share, so both build the same model from the same feed.
extension ClusterState {
    /// Applies one input from a ``MonitorFeed``.
    ///
    /// - Parameter input: Events, queue samples, worker stats or a retry link.
    /// - Returns: The text of a ``MonitorInput/notice(_:)``, which changes nothing in the
    ///   model and is for the caller to show; `nil` for every other input.
    @discardableResult
    public mutating func apply(_ input: MonitorInput) -> String? {
        switch input {
        case .events(let events, let receivedAt):
            apply(contentsOf: events, receivedAt: receivedAt)
        case .queues(let samples, let at):
            updateQueues(samples, at: at)
        case .workerStats(let hostname, let stats):
            mergeStats(stats, hostname: hostname)
        case .retryLinked(let original, let resent, let at):
            linkRetry(original: original, resent: resent, at: at)
        case .notice(let text):
            return text
        case .dropped(let count):
            noteDropped(events: count)
        }
        return nil
    }
}
