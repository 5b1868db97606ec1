package import Logging
import Synchronization

/// Group-commits a worker's bookkeeping writes: acks and results from every task go out in one
/// pipeline per round trip instead of a MULTI/EXEC each.
///
/// Writes are queued in order. When no flush is in flight the first writer starts one; writes
/// arriving meanwhile wait for the next, so an idle worker writes at once and a busy one writes
/// big batches. The acks of a batch are merged into one `ZREM`/`HDEL`/`HDEL` trio (kombu's ack, for
/// many tags at once) sent after the batch's other writes, which keeps Redis's work per task
/// small: a late ack still follows its task's result, and an early ack lands in the same pipeline
/// as its result or before it. A restore is sent after every ack
/// queued before it, so a stale ack can never erase the record of the next holder.
///
/// Flushing is driven by the client's completions, on its connection thread: the next batch is
/// sent from the reply of the last, with no task to start or hop back to, which is most of an
/// idle worker's latency from a task's end to its result in Redis.
///
/// During an outage the batch is retried with backoff until Redis is back (the client logs the
/// outage once); every write here is idempotent, so a batch cut off mid-way can be sent again.
///
/// Each batch is one `MULTI`/`EXEC` transaction, so Redis takes all of it or none: under
/// `maxmemory` Redis refuses a result's `SETEX` but not an ack's `ZREM`/`HDEL`, and a plain
/// pipeline would ack a late message whose result was refused. A refused batch (``WriteRefusals``)
/// is kept and sent again with backoff until Redis takes it, in order, ahead of later writes.
///
/// Acks, running marks and restores queued before the worker's liveness lapsed (a SIGSTOP, a VM pause)
/// are sent after it resumes, when a peer may have restored those messages and hold them under
/// the same tags: a batch built while ``fencedOwner`` names the worker applies them only where the
/// owner record still names it (``OrphanRecovery/releaseIfHeldScript``), never erasing or
/// overwriting a peer's record.
package final class WriteBatcher: Sendable {
    private enum Item {
        case ack(String)
        case command(RedisCommand)
        /// The `unacked` record of a message the worker took itself (``record(_:_:)``).
        case record(tag: String, [RedisCommand])
        /// The owner record of an `acks_late` message, marked running (``markRunning(_:owner:)``).
        case running(tag: String, owner: String)
        /// A held message put back on its list (``restore(_:to:envelope:)``); pending acks go first.
        case restore(tag: String, list: String, envelope: [UInt8])
    }

    private struct State {
        var items: [Item] = []
        var waiters: [CheckedContinuation<Void, Never>] = []
        var flushing = false
        /// Tags of the records still queued, so an ack finds its record without a scan.
        var queuedRecords: Set<String> = []
    }

    private let state = Mutex(State())
    private let client: RedisClient
    private let logger: Logger
    private let refusals: WriteRefusals
    /// Asked once per batch: the worker's owner value while its liveness may have lapsed (its
    /// acks and marks are then conditional), `nil` otherwise.
    private let fencedOwner: @Sendable () -> String?

    package init(client: RedisClient, logger: Logger, refusals: WriteRefusals, fencedOwner: @escaping @Sendable () -> String? = { nil }) {
        self.client = client
        self.logger = logger
        self.refusals = refusals
        self.fencedOwner = fencedOwner
    }

    /// Marks an `acks_late` message as running in its owner record (`owner` plus
    /// ``OrphanRecovery/runningMark``).
    package func markRunning(_ tag: String, owner: String) {
        enqueue { $0.items.append(.running(tag: tag, owner: owner)) }
    }

    /// Removes `tag` from kombu's `unacked` bookkeeping (and Celeriac's owner record). When the
    /// tag's ``record(_:_:)`` is still queued, both are dropped: neither needs to reach Redis.
    package func ack(_ tag: String) {
        enqueue { s in
            if !s.queuedRecords.isEmpty, s.queuedRecords.remove(tag) != nil,
               let i = s.items.lastIndex(where: { if case .record(tag, _) = $0 { true } else { false } }) {
                s.items.remove(at: i)
                return
            }
            s.items.append(.ack(tag))
        }
    }

    /// Queues the `unacked` record of a message taken by a plain BRPOP (the reservation script
    /// records its own) *without* starting a flush: a message acked as it starts, as most are,
    /// cancels its record before it is ever sent, so an idle worker's task costs no round trip
    /// for it. Before the message can wait (a full pool, an ETA, a rate limit) the worker calls
    /// ``sendQueued()``; any other write sends it too, ahead of the message's ack.
    package func record(_ tag: String, _ commands: [RedisCommand]) {
        state.withLock { s in
            s.items.append(.record(tag: tag, commands))
            s.queuedRecords.insert(tag)
        }
    }

    /// Puts a held message back at the head of `list` as kombu's restore does (`RPUSH`, its
    /// records removed in the same transaction), after every ack queued before it: an ack
    /// landing after the message is back could erase the record of the next worker that takes
    /// it. Fenced like acks: sent while the worker may no longer own the tag, it applies only
    /// where the owner record still names the worker.
    package func restore(_ tag: String, to list: String, envelope: [UInt8]) {
        enqueue { $0.items.append(.restore(tag: tag, list: list, envelope: envelope)) }
    }

    /// Starts a flush of whatever is queued, if none is in flight.
    package func sendQueued() {
        enqueue { _ in }
    }

    /// Queues commands, e.g. a result's SETEX and PUBLISH (acks queued before them are sent at
    /// the end of their batch).
    package func write(_ commands: [RedisCommand]) {
        enqueue { s in
            for command in commands { s.items.append(.command(command)) }
        }
    }

    /// Writes queued and not yet sent.
    package var queuedCount: Int { state.withLock { $0.items.count } }

    /// Writes queued beyond which ``waitIfBacklogged()`` waits: bounds memory when tasks finish
    /// faster than Redis takes their results (or while it is unreachable).
    package static let backlogLimit = 4096

    /// Waits for the queue to drain when more than ``backlogLimit`` writes are waiting.
    package func waitIfBacklogged() async {
        if state.withLock({ $0.items.count > Self.backlogLimit }) { await flushed() }
    }

    /// Returns once everything queued before the call is in Redis.
    package func flushed() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let (idle, start) = state.withLock { s -> (Bool, Bool) in
                guard s.flushing || !s.items.isEmpty else { return (true, false) }
                s.waiters.append(continuation)
                // Queued records wait for no flush of their own; someone waiting starts one.
                guard !s.flushing else { return (false, false) }
                s.flushing = true
                return (false, true)
            }
            if idle { continuation.resume() }
            if start { flushNext() }
        }
    }

    private func enqueue(_ add: (inout State) -> Void) {
        let start = state.withLock { s -> Bool in
            add(&s)
            guard !s.flushing, !s.items.isEmpty else { return false }
            s.flushing = true
            return true
        }
        if start { flushNext() }
    }

    /// Sends everything queued as one pipeline; its completion sends what was queued meanwhile,
    /// until nothing is left. Waiters are resumed once the writes queued before them are in.
    private func flushNext() {
        let (items, waiters) = state.withLock { s -> ([Item], [CheckedContinuation<Void, Never>]) in
            if s.items.isEmpty { s.flushing = false }
            defer {
                s.items.removeAll(keepingCapacity: true)
                s.waiters.removeAll(keepingCapacity: true)
                s.queuedRecords.removeAll(keepingCapacity: true)
            }
            return (s.items, s.waiters)
        }
        guard !items.isEmpty else {
            for waiter in waiters { waiter.resume() }
            return
        }
        send(Self.commands(for: items, fencedOwner: fencedOwner()), backoff: RedisBackoff.mustNotLose) {
            for waiter in waiters { waiter.resume() }
            self.flushNext()
        }
    }

    /// The transaction for a run of queued writes: the acks between restores become one trio,
    /// sent after the other writes of their stretch; writes queued as transactions of their own
    /// are part of the batch's (Redis does not nest `MULTI`).
    private static func commands(for items: [Item], fencedOwner: String?) -> [RedisCommand] {
        var out: [RedisCommand] = [RedisCommand("MULTI")]
        var tags: [String] = []
        func closeAcks() {
            guard !tags.isEmpty else { return }
            if let owner = fencedOwner {
                for tag in tags { out.append(OrphanRecovery.releaseIfHeld(tag: tag, owner: owner)) }
            } else {
                out.append(contentsOf: ackCommands(tags: tags))
            }
            tags.removeAll(keepingCapacity: true)
        }
        func add(_ command: RedisCommand) {
            if command.name != "MULTI" && command.name != "EXEC" { out.append(command) }
        }
        for item in items {
            switch item {
            case .ack(let tag): tags.append(tag)
            case .command(let command): add(command)
            case .record(_, let commands): commands.forEach(add)
            case .running(let tag, let owner):
                if fencedOwner != nil {
                    out.append(RedisCommand("EVAL", OrphanRecovery.markIfHeldScript, 1, OrphanRecovery.ownerKey, tag, owner))
                } else {
                    out.append(RedisCommand("HSET", OrphanRecovery.ownerKey, tag, OrphanRecovery.running(owner)))
                }
            case .restore(let tag, let list, let envelope):
                closeAcks()
                if let owner = fencedOwner {
                    out.append(OrphanRecovery.releaseIfHeld(tag: tag, owner: owner, restoring: (list, envelope)))
                } else {
                    out += [
                        RedisCommand("ZREM", QueueKeys.unackedIndex, tag),
                        RedisCommand("HDEL", QueueKeys.unacked, tag),
                        RedisCommand("HDEL", OrphanRecovery.ownerKey, tag),
                        RedisCommand("RPUSH", list, envelope),
                    ]
                }
            }
        }
        closeAcks()
        out.append(RedisCommand("EXEC"))
        return out
    }

    /// kombu's ack for several tags at once, plus the owner record.
    package static func ackCommands(tags: [String]) -> [RedisCommand] {
        [
            RedisCommand("ZREM", arguments: [QueueKeys.unackedIndex] + tags),
            RedisCommand("HDEL", arguments: [QueueKeys.unacked] + tags),
            RedisCommand("HDEL", arguments: [OrphanRecovery.ownerKey] + tags),
        ]
    }

    /// Sends one batch, then calls `done` (on the connection thread). During an outage the
    /// batch is sent again with backoff until Redis takes it: giving up would lose results or
    /// leave messages recorded as held.
    private func send(_ commands: [RedisCommand], backoff: RedisBackoff, then done: @escaping @Sendable () -> Void) {
        client.pipeline(commands) { result in
            var backoff = backoff
            switch result {
            case .success(let replies):
                if replies.contains(where: { if case .error(let m) = $0 { RedisError.isLoadingReply(m) } else { false } }) {
                    // The server restarted and is still reading its data: every write here is
                    // idempotent, so the whole batch is sent again shortly.
                    return self.retry(commands, backoff: &backoff, then: done)
                }
                if let refusal = Self.refusal(in: replies) {
                    // Nothing of the transaction was applied: kept, and sent again.
                    self.refusals.refused(refusal)
                    return self.retry(commands, backoff: &backoff, then: done)
                }
                self.refusals.accepted()
                let executed: [RedisReply] = if case .array(let inner) = replies.last { inner } else { replies }
                if let failed = executed.firstIndex(where: { if case .error = $0 { true } else { false } }) {
                    self.logger.error("Redis refused a bookkeeping write: \(executed[failed])")
                }
                done()
            case .failure(let error) where error.isConnectionProblem:
                // The client logged the outage once and is reconnecting.
                self.retry(commands, backoff: &backoff, then: done)
            case .failure(let error):
                self.logger.error("could not write \(commands.count) bookkeeping command(s): \(error)")
                done()
            }
        }
    }

    /// The refusal (``RedisError/isWriteRefused``) that discarded a batch's transaction, if
    /// one did: a queued command's error reply or `EXEC`'s.
    package static func refusal(in replies: [RedisReply]) -> String? {
        for reply in replies {
            if case .error(let message) = reply, RedisError.isWriteRefusalReply(message) { return message }
        }
        return nil
    }

    private func retry(_ commands: [RedisCommand], backoff: inout RedisBackoff, then done: @escaping @Sendable () -> Void) {
        let delay = backoff.next()
        let next = backoff
        Task {
            try? await Task.sleep(for: delay)
            self.send(commands, backoff: next, then: done)
        }
    }
}
