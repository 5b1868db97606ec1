import Synchronization

/// The queues a worker consumes now: its `-Q` list, changed at run time by `add_consumer` and
/// `cancel_consumer`. A worker whose last queue was cancelled waits here for one to be added
/// (``waitUntilAny()``) instead of looking again every so often.
final class ConsumedQueues: Sendable {
    private let queues: Mutex<[String]>
    private let changed = Waiters()

    init(_ queues: [String]) {
        self.queues = Mutex(queues)
    }

    /// The queues, in the order they were given or added.
    var current: [String] { queues.withLock { $0 } }

    /// Adds `queue` unless it is consumed already; whether it was added.
    func add(_ queue: String) -> Bool {
        let added = queues.withLock { q -> Bool in
            guard !q.contains(queue) else { return false }
            q.append(queue)
            return true
        }
        if added { changed.wakeAll() }
        return added
    }

    /// Stops consuming `queue`.
    func remove(_ queue: String) {
        queues.withLock { $0.removeAll { $0 == queue } }
    }

    /// Returns once at least one queue is consumed (at once if one is), or when the waiting
    /// task is cancelled.
    func waitUntilAny() async {
        await changed.wait { !queues.withLock { $0.isEmpty } }
    }

    /// Tasks in ``waitUntilAny()`` now (for tests).
    var waiting: Int { changed.count }
}
