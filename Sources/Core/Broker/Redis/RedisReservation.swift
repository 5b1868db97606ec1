import Foundation
import Synchronization

/// A reservation script call (``MessageReservation``) already written to the consumer
/// connection, whose batch a task reads later. A worker keeps two of these in flight so that
/// Redis runs the next batch's script while this one's reply travels and is decoded.
///
/// Calls go out through the client's completion API, which queues them in the order they are
/// made, so replies (and the batches the worker hands on) keep the order of the pops.
final class RedisReservation: BrokerReservation {
    let count: Int
    let lists: [String]
    /// Names the call; the same when it is repeated after a lost reply.
    private let token: String
    /// Which last-pop list keeps this batch for such a repeat (``MessageReservation/lastPopKey(owner:lane:)``).
    private let lane: Int
    private let driver: RedisBrokerDriver

    private enum State {
        case waiting(CheckedContinuation<Result<RedisReply, RedisError>, Never>?)
        case replied(Result<RedisReply, RedisError>)
    }

    private let state = Mutex(State.waiting(nil))

    /// Writes the call on the driver's consumer connection now.
    init(driver: RedisBrokerDriver, lists: [String], count: Int, lane: Int) {
        self.driver = driver
        self.lists = lists
        self.count = count
        self.lane = lane
        token = UUID().uuidString
        driver.consumer.pipeline([command()]) { [self] result in
            complete(result.flatMap { replies in
                if case .error(let message) = replies[0] { return .failure(RedisError(.server, message)) }
                return .success(replies[0])
            })
        }
    }

    /// The script call, timestamped now: sent first, and again with the same token and lane
    /// when its reply was lost.
    private func command() -> RedisCommand {
        MessageReservation.command(lists: lists, count: count, now: Date().timeIntervalSince1970, owner: driver.holder.owner, token: token, lane: lane)
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

    /// The first reply, once it came; one task at a time waits for it.
    private func reply() async -> Result<RedisReply, RedisError> {
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

    /// The batch (empty when nothing waited). A reply lost to an outage is asked for again with
    /// the same token and lane until Redis answers (the call may have taken a batch), unless the
    /// worker is stopping: then the batch stays held by this worker, its liveness key goes at
    /// exit, and a live worker's orphan sweep restores it.
    func messages() async -> [ReservedMessage] {
        var result = await reply()
        var backoff = RedisBackoff.mustNotLose
        while true {
            switch result {
            case .success(let reply):
                return MessageReservation.parse(reply)
            case .failure(let error) where error.isConnectionProblem && !driver.isStopping:
                try? await Task.sleep(for: backoff.next())
                do { result = .success(try await driver.consumer.send(command())) } catch { result = .failure(error) }
            case .failure(let error) where error.isWriteRefused:
                // The script writes nothing when refused (READONLY, MISCONF): the worker waits.
                driver.refusals.refused(error.message)
                return []
            case .failure(let error):
                if !error.isConnectionProblem { driver.logger.error("reserving messages failed: \(error)") }
                return []
            }
        }
    }
}
