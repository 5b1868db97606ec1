import Celeriac
import Foundation

/// The worker as its pidbox sees it (``ControlledWorker``). Members that publish or store go
/// through the broker driver and events ``Worker/Live`` holds, set before the control server starts.
extension Worker: ControlledWorker {
    private var liveNow: Live? { live.withLock { $0 } }

    func nextClock() -> Int { liveNow?.events.nextClock() ?? 0 }

    func adjustClock(to clock: Int) { _ = liveNow?.events.publisher?.adjustClock(clock) }

    var taskNames: [String] { tasks.names }

    func isRegistered(_ taskName: String) -> Bool { tasks[taskName] != nil }

    func requests(in phase: RequestTracker.Phase) -> [TaskRequestInfo] { requests.requests(in: phase) }

    func scheduledRequests() -> [JSONValue] { requests.scheduled() }

    func queryRequests(_ ids: [String]) -> JSONValue { requests.query(ids) }

    func isRunning(_ id: String) -> Bool { requests.isActive(id) }

    func statsSnapshot() -> ControlledWorkerStats {
        let (total, concurrency) = counters.withLock { ($0.total, $0.concurrency) }
        return ControlledWorkerStats(total: total, concurrency: concurrency,
                                     pool: executor.info(concurrency: concurrency, timeLimit: settings.timeLimit), startedAt: startedAt)
    }

    var revokedIDs: [String] { revoked.ids() }

    func addRevoked(_ ids: [String]) { revoked.add(ids) }

    func saveRevoked() { try? revoked.save() }

    func markRevokedInBackend(_ id: String) async {
        guard let driver = liveNow?.driver, driver.storesResults else { return }
        let state = await driver.storedResult(of: id)?.status ?? .pending
        guard [.pending, .received, .retry, .rejected].contains(state) else { return }
        driver.storeResult(.revoked(taskID: id, reason: "revoked", children: .null, now: Date()))
        await driver.flushed()
    }

    func terminate(_ ids: [String], signum: Int) -> [String] { requests.terminate(ids, signum: signum) }

    func rateLimitText(of taskName: String) -> String? { rateLimits.describe(taskName) }

    func setRateLimit(_ taskName: String, perSecond rate: Double, text: String) { rateLimits.set(taskName, perSecond: rate, text: text) }

    func setTimeLimit(_ taskName: String, hard: Double?, soft: Double?) { timeLimits.set(taskName, hard: hard, soft: soft) }

    var taskEventsEnabled: Bool { liveNow?.events.taskEventsEnabled ?? settings.sendTaskEvents }

    func setTaskEvents(_ on: Bool) -> Bool { liveNow?.events.setTaskEvents(on) ?? false }

    func sendHeartbeat(freq: Double) async {
        await liveNow?.events.worker(.workerHeartbeat, active: requests.activeCount, processed: processed, freq: freq)
    }

    var consumedQueues: [String] { queues.current }

    func addConsumer(_ queue: String) async -> Bool {
        guard queues.add(queue) else { return false }
        await liveNow?.driver.declare(queue: queue)
        return true
    }

    func cancelConsumer(_ queue: String) { queues.remove(queue) }
}
