import Celeriac
import Foundation
import Logging

/// What the pidbox's commands (``ControlCommands``) need of a worker, and nothing more: who it
/// is, what it holds, the knobs the commands turn, and shutdown.
///
/// ``Worker`` conforms (`Worker+ControlledWorker.swift`); a unit test drives the commands with
/// a fake, without Redis. Every member is quick and safe to call from any task.
protocol ControlledWorker: Sendable {
    /// The worker's settings (node name, broker, concurrency…), for `conf`, `stats` and mingle.
    var settings: WorkerSettings { get }
    var logger: Logger { get }

    // MARK: Clock

    /// Ticks the worker's Lamport clock (shared with its events) for a reply.
    func nextClock() -> Int
    /// Merges a clock seen on a command or a peer's reply.
    func adjustClock(to clock: Int)

    // MARK: What it holds

    /// Registered task names, sorted.
    var taskNames: [String] { get }
    func isRegistered(_ taskName: String) -> Bool
    /// Requests in one phase, as `inspect active/reserved` reports them.
    func requests(in phase: RequestTracker.Phase) -> [TaskRequestInfo]
    /// `inspect scheduled` entries.
    func scheduledRequests() -> [JSONValue]
    /// `inspect query_task`'s reply for `ids`.
    func queryRequests(_ ids: [String]) -> JSONValue
    /// Whether task `id`'s body runs here now.
    func isRunning(_ id: String) -> Bool
    /// Counts and pool description for `inspect stats`.
    func statsSnapshot() -> ControlledWorkerStats

    // MARK: Revoked tasks

    var revokedIDs: [String] { get }
    /// Adds ids to the revoked set (a `revoke`, a peer's `hello`).
    func addRevoked(_ ids: [String])
    /// Writes the revoked set to `--statedb`, if any.
    func saveRevoked()
    /// Stores REVOKED for task `id` in the result backend unless it already has a ready state
    /// (Celery 5.7 does so for every revoked id not running on the worker); no-op without a backend.
    func markRevokedInBackend(_ id: String) async
    /// Terminates the running tasks among `ids` with signal `signum`; returns the ids it terminated.
    func terminate(_ ids: [String], signum: Int) -> [String]

    // MARK: Limits and events

    /// The rate limit set at run time for a task type, as it was written (`10/m`).
    func rateLimitText(of taskName: String) -> String?
    func setRateLimit(_ taskName: String, perSecond rate: Double, text: String)
    func setTimeLimit(_ taskName: String, hard: Double?, soft: Double?)
    var taskEventsEnabled: Bool { get }
    /// Switches task events; whether the setting changed.
    func setTaskEvents(_ on: Bool) -> Bool
    /// Publishes a `worker-heartbeat` now.
    func sendHeartbeat(freq: Double) async

    // MARK: Pool, queues, shutdown

    /// Grows (positive) or shrinks (negative) the pool and the prefetch window with it.
    func resizePool(by delta: Int)
    /// Queues consumed now.
    var consumedQueues: [String] { get }
    /// Starts consuming `queue` (declaring it); `false` when already consumed.
    func addConsumer(_ queue: String) async -> Bool
    func cancelConsumer(_ queue: String)
    /// Begins a warm shutdown.
    func beginShutdown()
}

/// The figures of `inspect stats` that only the worker knows.
struct ControlledWorkerStats: Sendable {
    /// Tasks finished since start, by name.
    var total: [String: Int]
    /// The pool's size now (`pool_grow`/`pool_shrink` change it).
    var concurrency: Int
    /// The pool's own description (`stats.pool`).
    var pool: JSONObject
    var startedAt: Date
}
