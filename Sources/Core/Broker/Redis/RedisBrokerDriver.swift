public import Logging
import Foundation
import Synchronization

/// The ``BrokerDriver`` on Redis, with kombu's conventions, so Python workers and clients share
/// the queues: messages are taken by ``MessageReservation``'s script (or `BRPOP` when idle) and
/// recorded in kombu's `unacked` bookkeeping plus Celeriac's owner record
/// (``OrphanRecovery``); acks, results and marks are group-committed by a ``WriteBatcher``;
/// results are stored as Celery's Redis result backend stores them.
///
/// Three connections: `consumer` takes messages (its blocking pops would hold up anything
/// else), `broker` writes the bookkeeping, and the result backend's (the broker's when both
/// are the same Redis).
public final class RedisBrokerDriver: BrokerDriver {
    public let holder: BrokerHolder
    let consumer: RedisClient
    let broker: RedisClient
    let backend: RedisResultBackend?
    let logger: Logger
    /// Whether Redis takes this worker's writes; shared by everything that writes.
    let refusals: WriteRefusals
    /// Acks (and results when the backend is the broker), group-committed on the broker connection.
    private let writes: WriteBatcher
    /// Results: ``writes`` itself when the backend shares the broker's connection.
    private let results: WriteBatcher
    private let declarer: RedisBroker
    private let stopped = Atomic<Bool>(false)

    /// A driver over connected clients; `backend` shares `broker`'s connection when it is the
    /// same client.
    public init(holder: BrokerHolder, consumer: RedisClient, broker: RedisClient, backend: RedisResultBackend?, logger: Logger) {
        self.holder = holder
        self.consumer = consumer
        self.broker = broker
        self.backend = backend
        self.logger = logger
        let refusals = WriteRefusals(logger: logger)
        self.refusals = refusals
        // Acks and running marks queued before a lapse of this worker's liveness go out fenced.
        let owner = holder.owner
        let isFenced = holder.isFenced
        let fencedOwner: @Sendable () -> String? = { isFenced() ? owner : nil }
        let writes = WriteBatcher(client: broker, logger: logger, refusals: refusals, fencedOwner: fencedOwner)
        self.writes = writes
        results = backend.map { $0.client === broker ? writes : WriteBatcher(client: $0.client, logger: logger, refusals: refusals) } ?? writes
        declarer = RedisBroker(client: broker)
    }

    var isStopping: Bool { stopped.load(ordering: .relaxed) }

    // MARK: Taking messages

    public func reserve(from lists: [String], count: Int, lane: Int) -> any BrokerReservation {
        RedisReservation(driver: self, lists: lists, count: count, lane: lane)
    }

    public func blockingPop(from lists: [String], timeout: Int) async -> ReservedMessage? {
        do {
            let reply = try await consumer.send(RedisCommand("BRPOP", arguments: lists + [timeout]))
            guard let pair = reply.array, pair.count == 2, let key = pair[0].string, let raw = pair[1].bytes else { return nil }
            return ReservedMessage(listKey: key, raw: raw, recordedTag: nil)
        } catch {
            if error.isWriteRefused {
                refusals.refused(error.message)
            } else if !error.isConnectionProblem {
                logger.error("BRPOP failed: \(error)")
            }
            // The client reconnects by itself; don't spin while it does.
            try? await Task.sleep(for: .milliseconds(200))
            return nil
        }
    }

    /// `BLMOVE` from the list to its own tail: it blocks like `BRPOP` but moves the last message
    /// back where it was.
    public func waitForMessage(on list: String, timeout: Int) async {
        do {
            _ = try await consumer.send(RedisCommand("BLMOVE", list, list, "RIGHT", "RIGHT", timeout))
        } catch {
            if !error.isConnectionProblem { logger.error("BLMOVE failed: \(error)") }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    // MARK: Holding

    public func recordHeld(_ held: HeldMessage, durably: Bool) async {
        let entry = UnackedEntry.encode(envelopeBytes: held.envelope, exchange: held.exchange, routingKey: held.routingKey)
        let record = [
            RedisCommand("ZADD", QueueKeys.unackedIndex, Date().timeIntervalSince1970, held.tag),
            RedisCommand("HSET", QueueKeys.unacked, held.tag, entry),
            RedisCommand("HSET", OrphanRecovery.ownerKey, held.tag, holder.owner),
        ]
        if durably {
            await retrying("record \(held.tag) as unacked") { _ = try await self.broker.transaction(record) }
        } else {
            writes.record(held.tag, RedisConnection.wrapTransaction(record))
        }
    }

    public func ack(tag: String) {
        writes.ack(tag)
    }

    public func markRunning(tag: String, stored: Bool) async {
        writes.markRunning(tag, owner: holder.owner)
        if stored { await writes.flushed() }
    }

    /// Through the write queue, behind any ack of this tag still waiting there (``WriteBatcher/restore(_:to:envelope:)``).
    public func restore(tag: String, to list: String, envelope: [UInt8]) async {
        writes.restore(tag, to: list, envelope: envelope)
        await writes.flushed()
    }

    /// A rare path (after a pause or an outage), so one round trip each.
    public func releaseIfHeld(tag: String, restoring: (list: String, envelope: [UInt8])?) async -> Bool? {
        // Its record, its running mark and (for an ack) its result go first: a record still
        // queued here would make the message look taken by someone else.
        await writes.flushed()
        if results !== writes { await results.flushed() }
        let command = OrphanRecovery.releaseIfHeld(tag: tag, owner: holder.owner, restoring: restoring)
        // nil when Redis never answered (the worker gave up on it at shutdown; already logged).
        var released: Bool?
        await retrying(restoring == nil ? "ack \(tag)" : "restore \(tag)") {
            let reply = try await self.broker.send(command)
            if case .error(let message) = reply { throw RedisError(.server, message) }
            released = reply.int == 1
        }
        return released
    }

    public func isStillHeld(tag: String) async -> Bool {
        // A message taken by BRPOP may have its record still queued (it is sent lazily).
        await writes.flushed()
        guard let reply = try? await broker.send(RedisCommand("HGET", OrphanRecovery.ownerKey, tag)) else { return true }
        guard let value = reply.string, let holder = OrphanRecovery.parseOwner(value) else { return reply.isNull ? false : true }
        return OrphanRecovery.owner(node: holder.node, incarnation: holder.incarnation) == self.holder.owner
    }

    public func deadLetter(_ letter: DeadLetter, to list: String, heldAs tag: String?) async {
        var commands = [RedisCommand("LPUSH", list, letter.encoded())]
        if let tag {
            commands += [RedisCommand("ZREM", QueueKeys.unackedIndex, tag), RedisCommand("HDEL", QueueKeys.unacked, tag),
                         RedisCommand("HDEL", OrphanRecovery.ownerKey, tag)]
        }
        await retrying("dead-letter a message") { _ = try await self.broker.transaction(commands) }
    }

    // MARK: Publishing and results

    public func declare(queue: String) async {
        // A Redis refusing writes at start-up (OOM) is waited for, not a reason to exit.
        await retrying("declare queue \(queue)") { try await self.declarer.declare(queue: queue) }
    }

    public func publish(_ message: TaskMessage) async {
        await retrying("publish \(message.name)[\(message.id)]") { try await self.declarer.publish(message) }
    }

    public var storesResults: Bool { backend != nil }

    public func storeResult(_ meta: ResultMeta) {
        guard let backend else { return }
        results.write(backend.storeCommands(meta))
    }

    public func storedResult(of taskID: String) async -> ResultMeta? {
        guard let backend else { return nil }
        return try? await backend.meta(for: taskID)
    }

    /// Results share the acks' batches when the backend is the broker, where a late ack already
    /// follows its task's result.
    public func resultsStored() async {
        if results !== writes { await results.flushed() }
    }

    public func keepForRetry(taskID: String, raw: [UInt8]) {
        writes.write(RedisConnection.wrapTransaction(FailedTaskStore.recordCommands(taskID: taskID, rawMessage: raw)))
    }

    // MARK: The write queue

    public func sendQueued() { writes.sendQueued() }

    public func flushed() async {
        await results.flushed()
        await writes.flushed()
    }

    public func waitIfBacklogged() async {
        await results.waitIfBacklogged()
        await writes.waitIfBacklogged()
    }

    public var queuedWrites: Int { writes.queuedCount + (results === writes ? 0 : results.queuedCount) }

    public var refusesWrites: Bool { refusals.isRefusing }

    public func waitUntilWritesAccepted() async { await refusals.waitUntilAccepted() }

    // MARK: Liveness

    /// The write also tells an open ``WriteRefusals`` episode whether Redis takes writes again,
    /// when nothing else is writing.
    public func refreshLiveness(window: LivenessWindow) async -> Bool {
        do {
            let reply = try await broker.send(OrphanRecovery.refreshCommand(node: holder.node, incarnation: holder.incarnation, window: window))
            if case .error(let message) = reply {
                if RedisError.isWriteRefusalReply(message) { refusals.refused(message) }
                return false
            }
            refusals.accepted()
            return true
        } catch {
            if error.isWriteRefused { refusals.refused(error.message) }
            return false
        }
    }

    public func sweepOrphans(policy: OrphanPoisonPolicy) async -> OrphanSweep {
        do {
            return try await OrphanRecovery.sweep(client: broker, selfOwner: holder.owner, policy: policy)
        } catch let error as RedisError where error.isConnectionProblem {
            // The client logs outages; the next sweep tries again.
        } catch {
            logger.error("orphan sweep failed: \(error)")
        }
        return OrphanSweep()
    }

    public func forgetLiveness() async {
        _ = try? await broker.send(RedisCommand("DEL", OrphanRecovery.livenessKey(node: holder.node)))
    }

    public func stopping() {
        stopped.store(true, ordering: .relaxed)
        // A reservation loop waiting for Redis to take writes again stops waiting.
        refusals.release()
    }

    public func close() {
        consumer.close()
        broker.close()
        backend?.client.close()
        refusals.release()
    }

    /// Runs a step until it succeeds: during an outage the client already logged one line and
    /// is reconnecting, and giving up here would lose a result or leave a message dangling.
    /// A refusal (OOM, READONLY) opens or continues its episode, and the step is retried too.
    func retrying(_ what: String, _ body: () async throws -> Void) async {
        var backoff = RedisBackoff.mustNotLose
        while true {
            do {
                try await body()
                return
            } catch let error as RedisError where error.isConnectionProblem || error.isWriteRefused {
                if error.isWriteRefused { refusals.refused(error.message) }
                try? await Task.sleep(for: backoff.next())
            } catch {
                logger.error("could not \(what): \(error)")
                return
            }
        }
    }
}
