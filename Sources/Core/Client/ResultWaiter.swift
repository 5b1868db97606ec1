import Logging
import Synchronization
import Foundation

/// Waits for task results through pub/sub, as Celery's Redis result consumer does.
///
/// A task's channel is subscribed before the task is sent (or, for a task sent elsewhere,
/// before the first GET), so a result published in between cannot be missed. Ready results that
/// arrive before anyone waits are kept until collected. After a Redis outage the subscriber
/// replays its subscriptions and every waiter re-reads its key, since messages published during
/// the outage are gone.
final class ResultWaiter: Sendable {
    private struct Waiter {
        let continuation: CheckedContinuation<ResultMeta, any Error>
        let timer: Task<Void, Never>?
    }

    private struct State {
        var subscribed: Set<String> = []
        var arrived: [String: ResultMeta] = [:]
        var waiting: [String: [UUID: Waiter]] = [:]
    }

    private let state = Mutex(State())
    private let backend: RedisResultBackend
    private let logger: Logger
    // Set once in `connect`, before any message can arrive that needs it.
    private let subscriberBox = Mutex<RedisSubscriber?>(nil)

    private init(backend: RedisResultBackend, logger: Logger) {
        self.backend = backend
        self.logger = logger
    }

    static func connect(url: RedisURL, options: RedisOptions, backend: RedisResultBackend, logger: Logger) async throws(RedisError) -> ResultWaiter {
        let waiter = ResultWaiter(backend: backend, logger: logger)
        var options = options
        options.name = "results"
        let subscriber = try await RedisSubscriber.connect(url: url, options: options, logger: logger) { [weak waiter] event in
            waiter?.handle(event)
        }
        waiter.subscriberBox.withLock { $0 = subscriber }
        return waiter
    }

    private var subscriber: RedisSubscriber? { subscriberBox.withLock { $0 } }

    /// Subscribes to `taskID`'s result channel unless already subscribed.
    func subscribe(_ taskID: String) async throws(RedisError) {
        try await subscribe([taskID])
    }

    /// Subscribes to the result channels of `taskIDs` not yet subscribed, in one SUBSCRIBE.
    func subscribe(_ taskIDs: [String]) async throws(RedisError) {
        let fresh = state.withLock { s in taskIDs.filter { s.subscribed.insert($0).inserted } }
        guard !fresh.isEmpty, let subscriber else { return }
        do {
            try await subscriber.subscribe(fresh.map(RedisResultBackend.key(for:)))
        } catch {
            state.withLock { s in for id in fresh { s.subscribed.remove(id) } }
            throw error
        }
    }

    /// Drops interest in `taskID`: unsubscribes and forgets any result kept for it.
    func forget(_ taskID: String) async {
        let was = state.withLock { s -> Bool in
            s.arrived[taskID] = nil
            return s.subscribed.remove(taskID) != nil && s.waiting[taskID] == nil
        }
        if was { try? await subscriber?.unsubscribe([RedisResultBackend.key(for: taskID)]) }
    }

    /// Waits until `taskID` reaches a ready state (SUCCESS, FAILURE, REVOKED).
    /// - Throws: ``ResultTimeoutError`` after `timeout`, or the Redis error that prevented waiting.
    func waitReady(_ taskID: String, timeout: Duration?) async throws -> ResultMeta {
        try await subscribe(taskID)
        if let kept = state.withLock({ $0.arrived[taskID] }) {
            await forget(taskID)
            return kept
        }
        if let stored = try await backend.meta(for: taskID), stored.status.isReady {
            await forget(taskID)
            return stored
        }
        let token = UUID()
        let meta = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ResultMeta, any Error>) in
                let timer: Task<Void, Never>? = timeout.map { timeout in
                    Task { [weak self] in
                        try? await Task.sleep(for: timeout)
                        guard !Task.isCancelled else { return }
                        self?.fail(taskID, token, ResultTimeoutError(taskID: taskID, timeout: timeout))
                    }
                }
                let early = state.withLock { s -> ResultMeta? in
                    if let kept = s.arrived[taskID] { return kept }
                    s.waiting[taskID, default: [:]][token] = Waiter(continuation: continuation, timer: timer)
                    return nil
                }
                if let early {
                    timer?.cancel()
                    continuation.resume(returning: early)
                }
            }
        } onCancel: {
            self.fail(taskID, token, CancellationError())
        }
        await forget(taskID)
        return meta
    }

    private func fail(_ taskID: String, _ token: UUID, _ error: any Error) {
        let waiter = state.withLock { s -> Waiter? in
            let w = s.waiting[taskID]?.removeValue(forKey: token)
            if s.waiting[taskID]?.isEmpty == true { s.waiting[taskID] = nil }
            return w
        }
        waiter?.timer?.cancel()
        waiter?.continuation.resume(throwing: error)
    }

    private func deliver(_ meta: ResultMeta) {
        let waiters = state.withLock { s -> [Waiter] in
            guard s.subscribed.contains(meta.taskID) else { return [] }
            let ws = s.waiting.removeValue(forKey: meta.taskID).map { Array($0.values) } ?? []
            if ws.isEmpty { s.arrived[meta.taskID] = meta }
            return ws
        }
        for w in waiters {
            w.timer?.cancel()
            w.continuation.resume(returning: meta)
        }
    }

    private func handle(_ event: RedisPubSubEvent) {
        switch event {
        case .message(let channel, let payload):
            let prefix = "celery-task-meta-"
            guard channel.hasPrefix(prefix) else { return }
            do {
                let meta = try ResultMeta.decode(payload)
                if meta.status.isReady { deliver(meta) }
            } catch {
                logger.warning("ignoring a malformed result on \(channel): \(error)")
            }
        case .patternMessage:
            break
        case .reconnected:
            let ids = state.withLock { Array($0.waiting.keys) }
            guard !ids.isEmpty else { return }
            Task {
                for id in ids {
                    if let meta = try? await backend.meta(for: id), meta.status.isReady { deliver(meta) }
                }
            }
        }
    }

    func close() { subscriber?.close() }
}

/// `AsyncResult.get(timeout:)` ran out of time before the task was ready.
public struct ResultTimeoutError: Error, Sendable, CustomStringConvertible {
    public let taskID: String
    public let timeout: Duration
    public var description: String { "task \(taskID) was not ready within \(timeout)" }
}
