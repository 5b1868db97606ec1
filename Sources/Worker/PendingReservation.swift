import Celeriac
import Foundation
import Synchronization

/// A reservation script call already written to the consumer connection, whose reply a task
/// waits for later. The worker keeps up to ``Worker/reservationsInFlight`` of these so that
/// Redis runs the next batch's script while this one's reply travels and is decoded.
///
/// Calls go out through the client's completion API, which queues them in the order they are
/// made, so replies (and the batches the worker hands on) keep the order of the pops.
final class PendingReservation: Sendable {
    /// Prefetch slots held for this batch (its largest possible size).
    let slots: Int
    /// Names the call; the same when it is repeated after a lost reply.
    let token: String
    /// Which last-pop list keeps this batch for such a repeat (``MessageReservation/lastPopKey(owner:lane:)``).
    let lane: Int
    /// The lists it pops from, in consume order.
    let keys: [String]
    /// The worker's owner value, recorded beside each message it takes.
    let owner: String

    private enum State {
        case waiting(CheckedContinuation<Result<RedisReply, RedisError>, Never>?)
        case replied(Result<RedisReply, RedisError>)
    }

    private let state = Mutex(State.waiting(nil))

    /// Writes the call on `client` now.
    init(client: RedisClient, keys: [String], slots: Int, owner: String, token: String, lane: Int) {
        self.slots = slots
        self.token = token
        self.lane = lane
        self.keys = keys
        self.owner = owner
        client.pipeline([command()]) { [self] result in
            complete(result.flatMap { replies in
                if case .error(let message) = replies[0] { return .failure(RedisError(.server, message)) }
                return .success(replies[0])
            })
        }
    }

    /// The script call, timestamped now: sent first, and again with the same token and lane
    /// when its reply was lost.
    func command() -> RedisCommand {
        MessageReservation.command(lists: keys, count: slots, now: Date().timeIntervalSince1970, owner: owner, token: token, lane: lane)
    }

    /// Runs once, on the connection thread (or the caller's, after the client closed).
    private func complete(_ result: Result<RedisReply, RedisError>) {
        let waiter = state.withLock { s -> CheckedContinuation<Result<RedisReply, RedisError>, Never>? in
            guard case .waiting(let continuation) = s else { return nil }
            s = .replied(result)
            return continuation
        }
        waiter?.resume(returning: result)
    }

    /// The reply, once it came; one task at a time waits for it.
    func reply() async -> Result<RedisReply, RedisError> {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { s -> Result<RedisReply, RedisError>? in
                switch s {
                case .replied(let result): return result
                case .waiting: s = .waiting(continuation); return nil
                }
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
