import Celeriac
import Foundation
import Synchronization

/// What the worker holds right now, by task id: reserved (received, waiting for a slot),
/// scheduled (waiting for its ETA) or active (running), with the handle that terminates a
/// running task. `inspect active/reserved/scheduled/query_task` and `revoke --terminate` read it.
final class RequestTracker: Sendable {
    enum Phase: String, Sendable {
        case reserved, scheduled, active
    }

    struct Entry: Sendable {
        let delivery: Delivery
        var phase: Phase
        var timeStart: Double?
        var acknowledged = false
        /// Cancels the running body (cooperative termination); set once the task is active.
        var cancel: (@Sendable (_ signum: Int) -> Void)?
        /// The signal a terminate asked for, so the outcome can be reported as REVOKED.
        var terminatedWith: Int?
        /// The process running the body (a pool child, or the worker itself).
        var workerPID: Int?
    }

    private let entries = Mutex<[String: Entry]>([:])
    /// Tasks in ``waitUntilNoneActive()``. Lock order: the waiters' lock, then `entries`.
    private let idleWaiters = Waiters()
    private let hostname: String
    private let pid = Int(ProcessInfo.processInfo.processIdentifier)

    init(hostname: String) { self.hostname = hostname }

    func add(_ d: Delivery, phase: Phase) {
        entries.withLock { $0[d.message.id] = Entry(delivery: d, phase: phase) }
    }

    func setPhase(_ id: String, _ phase: Phase) {
        entries.withLock { $0[id]?.phase = phase }
        wakeIdleWaitersIfNoneActive()
    }

    /// Marks `id` running in process `pid`; `cancel` ends it early. Returns false if a terminate already came.
    func start(_ id: String, pid: Int, cancel: @escaping @Sendable (Int) -> Void) -> Bool {
        let now = Date().timeIntervalSince1970
        return entries.withLock { e in
            // One hash lookup, then the entry is changed in place (this runs for every task).
            guard let i = e.index(forKey: id) else { return false }
            e.values[i].workerPID = pid
            e.values[i].phase = .active
            e.values[i].timeStart = now
            e.values[i].acknowledged = true
            e.values[i].cancel = cancel
            return e.values[i].terminatedWith == nil
        }
    }

    /// Forgets `d`, unless its task id is already held again by a later taking (a restored
    /// message received anew), whose entry must stay.
    func remove(_ d: Delivery) {
        entries.withLock { e in
            if e[d.message.id]?.delivery.receipt == d.receipt { e[d.message.id] = nil }
        }
        wakeIdleWaitersIfNoneActive()
    }

    /// The signal number a terminate sent to `id`, if any.
    func terminatedSignal(_ id: String) -> Int? { entries.withLock { $0[id]?.terminatedWith } }

    /// Terminates the active requests among `ids`; returns the ids it terminated.
    func terminate(_ ids: [String], signum: Int) -> [String] {
        let targets = entries.withLock { e -> [(String, (@Sendable (Int) -> Void)?)] in
            ids.compactMap { id in
                guard var entry = e[id], entry.phase == .active else { return nil }
                entry.terminatedWith = signum
                e[id] = entry
                return (id, entry.cancel)
            }
        }
        for (_, cancel) in targets { cancel?(signum) }
        return targets.map(\.0)
    }

    /// Cancels every running body (cold shutdown), after telling `announce` how many: once the
    /// last body ends the worker may finish and its process exit, so whatever must be said
    /// about the cancelling is said before it.
    func cancelAll(announcing announce: (Int) -> Void) {
        let cancels = entries.withLock { e in e.values.filter { $0.phase == .active }.compactMap(\.cancel) }
        announce(cancels.count)
        for cancel in cancels { cancel(0) }
    }

    func isActive(_ id: String) -> Bool { entries.withLock { $0[id]?.phase == .active } }

    var activeCount: Int { entries.withLock { $0.values.filter { $0.phase == .active }.count } }

    /// Returns once no request is active (at once if none is), or when the waiting task is
    /// cancelled. A stopping worker waits here for its last task body to end.
    func waitUntilNoneActive() async {
        await idleWaiters.wait { activeCount == 0 }
    }

    /// Tasks in ``waitUntilNoneActive()`` now (for tests).
    var waitingUntilNoneActive: Int { idleWaiters.count }

    /// Called after a request stopped being active (or may have): costs one lock and nothing
    /// more while nobody waits, which is always so until the worker stops.
    private func wakeIdleWaitersIfNoneActive() {
        idleWaiters.wakeAll { activeCount == 0 }
    }

    /// Request dicts of every entry in `phase`, as Celery's `Request.info()`.
    func requests(in phase: Phase) -> [TaskRequestInfo] {
        entries.withLock { e in e.values.filter { $0.phase == phase }.sorted { $0.delivery.message.id < $1.delivery.message.id }.map(info) }
    }

    /// `scheduled` entries: `{eta, priority, request}` (priority 6 is the ETA timer's, as Celery reports).
    func scheduled() -> [JSONValue] {
        entries.withLock { e in
            e.values.filter { $0.phase == .scheduled }.map { entry in
                ControlReplyBody.scheduledEntry(eta: entry.delivery.message.eta.map(CeleryDate.format), priority: 6, request: info(entry))
            }
        }
    }

    /// `query_task`: `{id: [state, request]}` for the ids held here.
    func query(_ ids: [String]) -> JSONValue {
        let found = entries.withLock { e in ids.compactMap { id in e[id].map { (state: $0.phase.rawValue, request: info($0)) } } }
        return ControlReplyBody.queryTask(found)
    }

    private func info(_ entry: Entry) -> TaskRequestInfo {
        let m = entry.delivery.message
        return TaskRequestInfo(
            id: m.id, name: m.name, args: .array(m.args), kwargs: .object(m.kwargs), type: m.name, hostname: hostname,
            timeStart: entry.timeStart, acknowledged: entry.acknowledged, exchange: m.exchange, routingKey: m.routingKey,
            priority: m.priority, redelivered: m.redelivered, workerPID: entry.phase == .active ? entry.workerPID ?? pid : nil)
    }
}
