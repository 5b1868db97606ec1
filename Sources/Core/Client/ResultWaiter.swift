import Logging
import Synchronization
import Foundation

/// Waits for task results through pub/sub, as Celery's Redis result consumer does.
///
/// A sent task's channel subscription is *requested* as the task is sent, without waiting for
/// Redis to confirm it (as Celery's client does): waiting cost a round trip per send. The
/// request is deferred (``RedisSubscriber/subscribe(_:deferred:whenConfirmed:)``): waking the
/// subscriber's thread for every send cost more than the send, and a wait flushes it. A result
/// therefore cannot be missed only because a wait first makes sure the subscription is
/// confirmed and *then* reads the stored result: a result published before the confirmation
/// was stored before it (the worker SETs, then PUBLISHes), so that read finds it, and one
/// published after is delivered. Ready results that arrive before anyone waits are kept until
/// collected. After a Redis outage the subscriber replays its subscriptions and every waiter
/// re-reads its key, since messages published during the outage are gone.
final class ResultWaiter: Sendable {
    private struct Waiter {
        let continuation: CheckedContinuation<ResultMeta, any Error>
        let timer: Task<Void, Never>?
    }

    /// One task's result channel, from the SUBSCRIBE request to Redis' confirmation.
    private enum Subscription {
        /// Requested by SUBSCRIBE number `request`; `confirmedWaiters` resume once it is confirmed.
        case pending(request: UInt64, confirmedWaiters: [ConfirmationWaiter])
        case confirmed
    }

    /// A wait for a subscription's confirmation; `token` names the `waitReady` it belongs to
    /// (`nil`: a wait without a deadline), so that the wait's timer can end it.
    private struct ConfirmationWaiter {
        let token: UInt64?
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        /// Keyed by prehashed ids: a bulk producer can have hundreds of thousands pending.
        var subscriptions: [PrehashedKey: Subscription] = [:]
        /// Numbers SUBSCRIBE requests, so a late confirmation of an old request (the channel was
        /// unsubscribed and requested again meanwhile) does not confirm the newer one.
        var nextRequest: UInt64 = 0
        var arrived: [String: ResultMeta] = [:]
        var waiting: [String: [UInt64: Waiter]] = [:]
        /// Tells apart concurrent waits for one task.
        var nextWaiter: UInt64 = 0
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

    /// How many times a caller woke the subscriber's loop (``RedisSubscriber/callerWakeUps``):
    /// lets a test see at once that a send left it asleep and that a wait woke it.
    var subscriberWakeUps: Int { subscriber?.callerWakeUps ?? 0 }

    /// Requests subscriptions to the result channels of `taskIDs` not yet subscribed, in one
    /// SUBSCRIBE, and returns at once: ``waitReady(_:timeout:)`` waits for the confirmation.
    func requestSubscriptions(_ taskIDs: [String]) {
        let keys = taskIDs.map(PrehashedKey.init)
        let (fresh, request) = state.withLock { s -> ([PrehashedKey], UInt64) in
            let request = s.nextRequest
            s.nextRequest += 1
            let fresh = keys.filter { key in
                guard s.subscriptions[key] == nil else { return false }
                s.subscriptions[key] = .pending(request: request, confirmedWaiters: [])
                return true
            }
            return (fresh, request)
        }
        guard !fresh.isEmpty, let subscriber else { return }
        // Deferred: most sends are never waited for at once, and a wait flushes it.
        subscriber.subscribe(fresh.map { RedisResultBackend.key(for: $0.string) }, deferred: true) { [weak self] result in
            self?.settle(fresh, request: request, result)
        }
    }

    /// Returns once `taskID`'s channel subscription is confirmed, requesting it if needed.
    /// A failed request (e.g. the connection broke while it was in flight) is repeated once,
    /// which waits out an outage up to ``RedisOptions/maxOutageWait``.
    ///
    /// - Parameter deadline: The wait `token`'s deadline: past it, the wait ends with
    ///   `timedOut`, here or through ``expire(_:_:_:)`` from the wait's timer, so that a results
    ///   server that never confirms cannot hold `get(timeout:)` past its timeout.
    func confirmSubscription(
        _ taskID: String, token: UInt64? = nil, deadline: ContinuousClock.Instant? = nil, timedOut: any Error = CancellationError()
    ) async throws {
        do {
            try await awaitConfirmation(taskID, token: token, deadline: deadline, timedOut: timedOut)
        } catch is RedisError {
            try await awaitConfirmation(taskID, token: token, deadline: deadline, timedOut: timedOut)
        }
    }

    private func awaitConfirmation(
        _ taskID: String, token: UInt64?, deadline: ContinuousClock.Instant?, timedOut: any Error
    ) async throws {
        let key = PrehashedKey(taskID)
        if state.withLock({ if case .confirmed? = $0.subscriptions[key] { true } else { false } }) { return }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            /// What this wait must do about the subscription.
            enum Step { case none, timedOut, flushPending, request(UInt64) }
            let waiter = ConfirmationWaiter(token: token, continuation: continuation)
            let step = state.withLock { s -> Step in
                switch s.subscriptions[key] {
                case .confirmed?:
                    return .none
                case _ where deadline.map { ContinuousClock.now >= $0 } == true:
                    // Checked under the lock `expire` takes: a timer that fired before this
                    // registration found nothing to end.
                    return .timedOut
                case .pending(let request, var waiters)?:
                    waiters.append(waiter)
                    s.subscriptions[key] = .pending(request: request, confirmedWaiters: waiters)
                    // Requested with a send, maybe not written yet: now someone waits for it.
                    return .flushPending
                case nil:
                    let request = s.nextRequest
                    s.nextRequest += 1
                    s.subscriptions[key] = .pending(request: request, confirmedWaiters: [waiter])
                    return .request(request)
                }
            }
            let newRequest: UInt64
            switch step {
            case .none:
                continuation.resume()
                return
            case .timedOut:
                continuation.resume(throwing: timedOut)
                return
            case .flushPending:
                subscriber?.flush()
                return
            case .request(let request): newRequest = request
            }
            guard let subscriber else {
                settle([key], request: newRequest, .failure(RedisError(.closed, "the result subscriber is closed")))
                return
            }
            subscriber.subscribe([RedisResultBackend.key(for: taskID)]) { [weak self] result in
                self?.settle([key], request: newRequest, result)
            }
        }
    }

    /// Records the outcome of SUBSCRIBE number `request` and resumes whoever waited for it;
    /// channels unsubscribed or requested again meanwhile are left alone.
    private func settle(_ keys: [PrehashedKey], request: UInt64, _ result: Result<Void, RedisError>) {
        var resumed: [ConfirmationWaiter] = []
        state.withLock { s in
            for key in keys {
                guard let index = s.subscriptions.index(forKey: key),
                      case .pending(request, let waiters) = s.subscriptions.values[index] else { continue }
                resumed += waiters
                switch result {
                case .success: s.subscriptions.values[index] = .confirmed
                case .failure: s.subscriptions.remove(at: index)
                }
            }
        }
        for waiter in resumed { waiter.continuation.resume(with: result.mapError { $0 }) }
    }

    /// Drops interest in `taskID`: unsubscribes and forgets any result kept for it. With
    /// `confirmed` false the UNSUBSCRIBE is only requested, so a caller that already has its
    /// result does not wait a round trip for it.
    func forget(_ taskID: String, confirmed: Bool = true) async {
        let was = state.withLock { s -> Bool in
            s.arrived[taskID] = nil
            return s.subscriptions.removeValue(forKey: PrehashedKey(taskID)) != nil && s.waiting[taskID] == nil
        }
        guard was, let subscriber else { return }
        let channel = RedisResultBackend.key(for: taskID)
        if confirmed {
            try? await subscriber.unsubscribe([channel])
        } else {
            subscriber.unsubscribe([channel], deferred: true) { _ in }
        }
    }

    /// Waits until `taskID` reaches a ready state (SUCCESS, FAILURE, REVOKED).
    /// - Throws: ``ResultTimeoutError`` after `timeout`, or the Redis error that prevented waiting.
    func waitReady(_ taskID: String, timeout: Duration?) async throws -> ResultMeta {
        let token = state.withLock { s -> UInt64 in
            defer { s.nextWaiter += 1 }
            return s.nextWaiter
        }
        let deadline = timeout.map { ContinuousClock.now + $0 }
        let timedOut = ResultTimeoutError(taskID: taskID, timeout: timeout ?? .zero)
        // One timer for the whole wait: it ends the wait for the confirmation or for the result,
        // whichever the wait is in.
        let timer: Task<Void, Never>? = deadline.map { deadline in
            Task { [weak self] in
                try? await Task.sleep(until: deadline)
                guard !Task.isCancelled else { return }
                self?.expire(taskID, token, timedOut)
            }
        }
        do {
            try await confirmSubscription(taskID, token: token, deadline: deadline, timedOut: timedOut)
        } catch {
            timer?.cancel()
            throw error
        }
        if let kept = state.withLock({ $0.arrived[taskID] }) {
            timer?.cancel()
            await forget(taskID, confirmed: false)
            return kept
        }
        let meta = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ResultMeta, any Error>) in
                let early = state.withLock { s -> Result<ResultMeta, ResultTimeoutError>? in
                    if let kept = s.arrived[taskID] { return .success(kept) }
                    // Under the lock that the timer's `expire` takes too: a timer that fired
                    // before this registration (the confirmation used up the timeout) found
                    // nothing to end, and this check catches it instead.
                    if let deadline, ContinuousClock.now >= deadline { return .failure(timedOut) }
                    s.waiting[taskID, default: [:]][token] = Waiter(continuation: continuation, timer: timer)
                    return nil
                }
                if let early {
                    timer?.cancel()
                    continuation.resume(with: early.mapError { $0 })
                    return
                }
                // Only after the confirmation (see the type's comment), and with the waiter
                // already registered: whichever of this read and the published message comes
                // first completes the wait, so the read costs no latency.
                backend.meta(for: taskID) { [weak self] stored in
                    switch stored {
                    case .success(let meta?) where meta.status.isReady: self?.deliver(meta)
                    case .success: break
                    case .failure(let error): self?.fail(taskID, token, error)
                    }
                }
            }
        } onCancel: {
            self.fail(taskID, token, CancellationError())
        }
        await forget(taskID, confirmed: false)
        return meta
    }

    /// Ends wait `token` for `taskID` with `error` (its timeout), whether it still waits for
    /// the subscription's confirmation or already for the result.
    private func expire(_ taskID: String, _ token: UInt64, _ error: any Error) {
        let key = PrehashedKey(taskID)
        let confirming = state.withLock { s -> ConfirmationWaiter? in
            guard let index = s.subscriptions.index(forKey: key),
                  case .pending(let request, var waiters) = s.subscriptions.values[index],
                  let i = waiters.firstIndex(where: { $0.token == token }) else { return nil }
            let waiter = waiters.remove(at: i)
            s.subscriptions.values[index] = .pending(request: request, confirmedWaiters: waiters)
            return waiter
        }
        if let confirming {
            confirming.continuation.resume(throwing: error)
        } else {
            fail(taskID, token, error)
        }
    }

    private func fail(_ taskID: String, _ token: UInt64, _ error: any Error) {
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
            guard s.subscriptions[PrehashedKey(meta.taskID)] != nil else { return [] }
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
