import Celeriac
import Logging
import Synchronization

/// Group-commits a worker's bookkeeping writes: acks and results from every task go out in one
/// pipeline per round trip instead of a MULTI/EXEC each.
///
/// Writes are queued in order. When no flush is in flight the first writer starts one; writes
/// arriving meanwhile wait for the next, so an idle worker writes at once and a busy one writes
/// big batches. The acks of a batch are merged into one `ZREM`/`HDEL`/`HDEL` trio (kombu's ack, for
/// many tags at once) sent after the batch's other writes, which keeps Redis's work per task
/// small: a late ack still follows its task's result, and an early ack lands in the same pipeline
/// as its result or before it. A write queued as a barrier (a restore) is sent after every ack
/// queued before it, so a stale ack can never erase the record of the next holder.
///
/// During an outage the batch is retried with backoff until Redis is back (the client logs the
/// outage once); every write here is idempotent, so a batch cut off mid-way can be sent again.
final class WriteBatcher: Sendable {
    private enum Item {
        case ack(String)
        case command(RedisCommand)
        /// Pending acks go out before this one.
        case barrier
    }

    private struct State {
        var items: [Item] = []
        var waiters: [CheckedContinuation<Void, Never>] = []
        var flushing = false
    }

    private let state = Mutex(State())
    private let client: RedisClient
    private let logger: Logger

    init(client: RedisClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Removes `tag` from kombu's `unacked` bookkeeping (and Celeriac's owner record).
    func ack(_ tag: String) {
        enqueue { $0.items.append(.ack(tag)) }
    }

    /// Queues commands, e.g. a result's SETEX and PUBLISH. With `afterAcks`, they are sent after
    /// every ack queued before them (acks are otherwise sent at the end of their batch).
    func write(_ commands: [RedisCommand], afterAcks: Bool = false) {
        enqueue { s in
            if afterAcks { s.items.append(.barrier) }
            for command in commands { s.items.append(.command(command)) }
        }
    }

    /// Writes queued beyond which ``waitIfBacklogged()`` waits: bounds memory when tasks finish
    /// faster than Redis takes their results (or while it is unreachable).
    static let backlogLimit = 4096

    /// Waits for the queue to drain when more than ``backlogLimit`` writes are waiting.
    func waitIfBacklogged() async {
        if state.withLock({ $0.items.count > Self.backlogLimit }) { await flushed() }
    }

    /// Returns once everything queued before the call is in Redis.
    func flushed() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let idle = state.withLock { s -> Bool in
                guard s.flushing || !s.items.isEmpty else { return true }
                s.waiters.append(continuation)
                return false
            }
            if idle { continuation.resume() }
        }
    }

    private func enqueue(_ add: (inout State) -> Void) {
        let start = state.withLock { s -> Bool in
            add(&s)
            guard !s.flushing else { return false }
            s.flushing = true
            return true
        }
        if start { Task { await self.flushLoop() } }
    }

    private func flushLoop() async {
        while true {
            let (items, waiters) = state.withLock { s -> ([Item], [CheckedContinuation<Void, Never>]) in
                if s.items.isEmpty && s.waiters.isEmpty { s.flushing = false }
                defer {
                    s.items.removeAll(keepingCapacity: true)
                    s.waiters.removeAll(keepingCapacity: true)
                }
                return (s.items, s.waiters)
            }
            if items.isEmpty && waiters.isEmpty { return }
            if !items.isEmpty { await send(Self.commands(for: items)) }
            for waiter in waiters { waiter.resume() }
        }
    }

    /// The pipeline for a run of queued writes: the acks between barriers become one trio, sent
    /// after the other writes of their stretch.
    private static func commands(for items: [Item]) -> [RedisCommand] {
        var out: [RedisCommand] = []
        var tags: [String] = []
        func closeAcks() {
            guard !tags.isEmpty else { return }
            out.append(contentsOf: ackCommands(tags: tags))
            tags.removeAll(keepingCapacity: true)
        }
        for item in items {
            switch item {
            case .ack(let tag): tags.append(tag)
            case .command(let command): out.append(command)
            case .barrier: closeAcks()
            }
        }
        closeAcks()
        return out
    }

    /// kombu's ack for several tags at once, plus the owner record.
    static func ackCommands(tags: [String]) -> [RedisCommand] {
        [
            RedisCommand("ZREM", arguments: [QueueKeys.unackedIndex] + tags),
            RedisCommand("HDEL", arguments: [QueueKeys.unacked] + tags),
            RedisCommand("HDEL", arguments: [OrphanRecovery.ownerKey] + tags),
        ]
    }

    private func send(_ commands: [RedisCommand]) async {
        var backoff = Worker.redisRetryBackoff
        while true {
            do throws(RedisError) {
                let replies = try await client.pipeline(commands)
                if replies.contains(where: { if case .error(let m) = $0 { RedisError.isLoadingReply(m) } else { false } }) {
                    // The server restarted and is still reading its data: every write here is
                    // idempotent, so the whole batch is sent again shortly.
                    throw RedisError(.server, "LOADING")
                }
                if let failed = replies.firstIndex(where: { if case .error = $0 { true } else { false } }) {
                    logger.error("Redis refused a bookkeeping write (\(commands[failed].name)): \(replies[failed])")
                }
                return
            } catch let error where error.isConnectionProblem {
                // The client logged the outage once and is reconnecting; giving up would lose
                // results or leave messages recorded as held.
                try? await Task.sleep(for: backoff.next())
            } catch {
                logger.error("could not write \(commands.count) bookkeeping command(s): \(error)")
                return
            }
        }
    }
}
