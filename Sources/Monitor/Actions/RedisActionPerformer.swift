public import Celeriac
import Foundation
public import Logging

/// Carries out ``MonitorAction``s over Redis: remote-control commands through a
/// ``Celeriac/ControlClient``, retries through ``Celeriac/FailedTaskStore``, purges on the
/// broker. Each outcome summarises the workers' replies in one line
/// (``ControlReplySummary``) and is appended to the ``ActionLog``.
///
/// Commands that Celery workers answer (revoke, rate_limit, pool_grow, pool_shrink) are sent
/// asking for replies, so "no worker replied" is reported as a failure rather than silently
/// succeeding. `shutdown` has no reply in Celery, so the worker is pinged first.
public final class RedisActionPerformer: ActionPerformer {
    /// Called after a successful retry with the failed task's id, the new id and the local
    /// time, so the caller can feed ``MonitorInput/retryLinked(original:resent:at:)`` to its model.
    public typealias RetryHandler = @Sendable (_ original: String, _ resent: String, _ at: Double) -> Void

    private let control: ControlClient
    private let broker: RedisBroker
    private let backend: RedisResultBackend?
    private let log: ActionLog?
    private let logger: Logger
    private let origin: String
    private let replyTimeout: Duration
    private let onRetry: RetryHandler?
    /// Connections made by ``connect(config:options:log:logger:onRetry:)``, closed by ``close()``.
    private let ownedControl: ControlClient?
    private let ownedClients: [RedisClient]

    /// Creates a performer over existing connections.
    ///
    /// - Parameters:
    ///   - control: Remote control (share ``RedisMonitorFeed/control``).
    ///   - broker: The broker, for retries and purges.
    ///   - backend: The result backend, for retries of tasks only `result_extended` describes.
    ///   - log: Where each action is recorded; `nil` records nothing.
    ///   - logger: Receives a warning when the action log cannot be written.
    ///   - replyTimeout: How long to collect workers' replies.
    ///   - onRetry: Called after each successful retry (see ``RetryHandler``).
    public convenience init(
        control: ControlClient, broker: RedisBroker, backend: RedisResultBackend?, log: ActionLog?, logger: Logger,
        replyTimeout: Duration = .seconds(1), onRetry: RetryHandler? = nil
    ) {
        self.init(
            control: control, broker: broker, backend: backend, log: log, logger: logger, replyTimeout: replyTimeout,
            onRetry: onRetry, ownedControl: nil, ownedClients: [])
    }

    private init(
        control: ControlClient, broker: RedisBroker, backend: RedisResultBackend?, log: ActionLog?, logger: Logger,
        replyTimeout: Duration, onRetry: RetryHandler?, ownedControl: ControlClient?, ownedClients: [RedisClient]
    ) {
        self.ownedControl = ownedControl
        self.ownedClients = ownedClients
        self.control = control
        self.broker = broker
        self.backend = backend
        self.log = log
        self.logger = logger
        self.replyTimeout = replyTimeout
        self.onRetry = onRetry
        origin = "qmon-\(ProcessInfo.processInfo.processIdentifier)@\(ProcessInfo.processInfo.hostName)"
    }

    /// Connects its own control client, broker and result backend for `config` (for the
    /// command line; the dashboard shares the feed's control client through ``init(control:broker:backend:log:logger:replyTimeout:onRetry:)``).
    ///
    /// - Parameters:
    ///   - config: Resolved settings (broker, result backend, `result_expires`).
    ///   - options: Connection options.
    ///   - log: Where each action is recorded; `nil` records nothing.
    ///   - logger: Receives outage lines and action-log warnings.
    ///   - onRetry: Called after each successful retry.
    /// - Throws: ``Celeriac/RedisError`` when a URL is invalid or a first connect fails.
    public static func connect(
        config: CeleriacConfig, options: RedisOptions = .init(), log: ActionLog?, logger: Logger,
        onRetry: RetryHandler? = nil
    ) async throws(RedisError) -> RedisActionPerformer {
        let brokerURL = try RedisURL(parsing: config.brokerURL)
        let backendURL = try config.effectiveResultBackend.map { (s: String) throws(RedisError) in try RedisURL(parsing: s) }
        var brokerOptions = options
        brokerOptions.name = "broker"
        brokerOptions.maxOutageWait = brokerOptions.maxOutageWait ?? .seconds(5)
        let brokerClient = try await RedisClient.connect(url: brokerURL, options: brokerOptions, logger: logger)
        var clients = [brokerClient]
        do throws(RedisError) {
            var backend: RedisResultBackend?
            if let backendURL {
                if backendURL == brokerURL {
                    backend = RedisResultBackend(client: brokerClient, expires: config.resultExpires)
                } else {
                    var backendOptions = brokerOptions
                    backendOptions.name = "results"
                    let c = try await RedisClient.connect(url: backendURL, options: backendOptions, logger: logger)
                    clients.append(c)
                    backend = RedisResultBackend(client: c, expires: config.resultExpires)
                }
            }
            let control = try await ControlClient.connect(url: brokerURL, options: options, logger: logger)
            return RedisActionPerformer(
                control: control, broker: RedisBroker(client: brokerClient), backend: backend, log: log, logger: logger,
                replyTimeout: .seconds(1), onRetry: onRetry, ownedControl: control, ownedClients: clients)
        } catch {
            for c in clients { c.close() }
            throw error
        }
    }

    /// Closes the connections ``connect(config:options:log:logger:onRetry:)`` made; shared
    /// connections passed to the initializer are left to their owner.
    public func close() async {
        await ownedControl?.close()
        for c in ownedClients { c.close() }
    }

    /// Performs `action`, records it in the action log and returns how it went. Never throws:
    /// errors (Redis unreachable, nothing to retry) become a failed outcome with the reason.
    ///
    /// - Parameter action: What to do.
    public func perform(_ action: MonitorAction) async -> ActionOutcome {
        let outcome: ActionOutcome
        do {
            outcome = try await run(action)
        } catch let error as RedisError {
            outcome = ActionOutcome(action: action, succeeded: false, message: "Redis: \(error.message)")
        } catch let error as FailedTaskStore.Unavailable {
            outcome = ActionOutcome(action: action, succeeded: false, message: error.description)
        } catch {
            outcome = ActionOutcome(action: action, succeeded: false, message: "\(error)")
        }
        if let log {
            do {
                try log.append(outcome)
            } catch {
                logger.warning("\(error)")
            }
        }
        return outcome
    }

    private func run(_ action: MonitorAction) async throws -> ActionOutcome {
        switch action {
        case .revoke(let ids, let terminate, let signal):
            let replies = try await control.revoke(
                ids, terminate: terminate, signal: signal, reply: true, timeout: replyTimeout)
            return outcome(action, replies)
        case .rateLimit(let name, let rate):
            return outcome(action, try await control.rateLimit(task: name, rate: rate, timeout: replyTimeout))
        case .poolGrow(let worker, let n):
            return outcome(
                action, try await control.poolGrow(n: n, destination: [worker], reply: true, timeout: replyTimeout))
        case .poolShrink(let worker, let n):
            return outcome(
                action, try await control.poolShrink(n: n, destination: [worker], reply: true, timeout: replyTimeout))
        case .shutdown(let worker):
            let pong = try await control.ping(destination: [worker], timeout: replyTimeout)
            guard !pong.isEmpty else {
                return ActionOutcome(action: action, succeeded: false, message: "\(worker) did not answer ping")
            }
            try await control.shutdown(destination: [worker])
            return ActionOutcome(action: action, succeeded: true, message: "\(worker): shutdown sent")
        case .retry(let id):
            let newID = try await FailedTaskStore.retry(taskID: id, broker: broker, backend: backend, origin: origin)
            onRetry?(id, newID, Date().timeIntervalSince1970)
            return ActionOutcome(action: action, succeeded: true, message: "re-sent \(id) as \(newID)", newTaskID: newID)
        case .purge(let queue):
            let removed = try await purge(queue: queue)
            return ActionOutcome(
                action: action, succeeded: true,
                message: "removed \(removed) message\(removed == 1 ? "" : "s") from \(queue)")
        }
    }

    private func outcome(_ action: MonitorAction, _ replies: [String: JSONValue]) -> ActionOutcome {
        let summary = ControlReplySummary(replies)
        return ActionOutcome(action: action, succeeded: summary.anySucceeded, message: summary.line)
    }

    /// Deletes every priority list of `queue` in one transaction, counting first in the same
    /// transaction so the count is exactly what was deleted.
    ///
    /// - Returns: Messages removed.
    private func purge(queue: String) async throws(RedisError) -> Int {
        let lists = QueueKeys.prioritySteps.map { QueueKeys.list(queue: queue, priority: $0) }
        let replies = try await broker.client.transaction(
            lists.map { RedisCommand("LLEN", $0) } + [RedisCommand("DEL", arguments: lists)])
        return replies.prefix(lists.count).reduce(0) { $0 + ($1.int ?? 0) }
    }
}
