import Celeriac
import Foundation
import Synchronization

/// One worker run's ``BrokerDriver`` on an ``InMemoryBroker``: what ``RedisBrokerDriver`` does
/// to Redis, done to the shared store in memory (see ``InMemoryBroker`` for the conventions).
///
/// Writes apply at once, in the order they are made, so ``flushed()`` and ``resultsStored()``
/// return at once, unless the store refuses writes: then they are kept in that order, and every
/// wait for one lasts until the store accepts writes again (or this driver closes).
final class InMemoryBrokerDriver: BrokerDriver {
    let store: InMemoryBroker
    let holder: BrokerHolder
    /// Tells this driver's waits from other drivers' on the same store.
    let id: Int

    init(store: InMemoryBroker, holder: BrokerHolder, id: Int) {
        self.store = store
        self.holder = holder
        self.id = id
    }

    // MARK: Taking messages

    /// Takes up to `count` messages at once, in the order of `lists`, each recorded as held in
    /// the same step, as the reservation script does (nothing while the store refuses writes:
    /// the script writes nothing then). A message is recorded when it has a delivery tag: the
    /// script reads the tag, exchange and routing key without decoding the whole message, so an
    /// envelope with a tag but an undecodable body is recorded too (the worker dead-letters it
    /// and removes that record).
    func reserve(from lists: [String], count: Int, lane: Int) -> any BrokerReservation {
        let owner = holder.owner
        let taken = store.mutate { s -> [ReservedMessage] in
            guard !s.refusing else { return [] }
            var out: [ReservedMessage] = []
            for list in lists {
                while out.count < count, let raw = s.popTail(list) {
                    guard let (tag, exchange, routingKey) = Self.bookkeeping(raw) else {
                        out.append(ReservedMessage(listKey: list, raw: raw, recordedTag: nil))
                        continue
                    }
                    s.hold(tag, InMemoryBroker.Held(envelope: raw, exchange: exchange, routingKey: routingKey, owner: owner, running: false))
                    out.append(ReservedMessage(listKey: list, raw: raw, recordedTag: tag))
                }
            }
            return out
        }
        return InMemoryReservation(count: count, lists: lists, taken: taken)
    }

    /// The delivery tag, exchange and routing key the reservation script records, if it finds a tag.
    private static func bookkeeping(_ raw: [UInt8]) -> (tag: String, exchange: String, routingKey: String)? {
        if let m = try? TaskMessage.decode(bytes: raw) {
            return m.deliveryTag.isEmpty ? nil : (m.deliveryTag, m.exchange, m.routingKey)
        }
        guard let envelope = try? KombuEnvelope.decode(raw), let tag = envelope.deliveryTag, !tag.isEmpty else { return nil }
        return (tag, envelope.exchange ?? "", envelope.routingKey ?? "")
    }

    /// `BRPOP`: the first of `lists` with a message, from its tail; blocks (a continuation woken
    /// by pushes, a timer for `timeout`; 0 waits for ever, as Redis's) until one comes. Ends at
    /// once, with `nil`, when the worker is stopping.
    func blockingPop(from lists: [String], timeout: Int) async -> ReservedMessage? {
        let outcome = await store.wait(driver: id, endsWhenStopping: true, timeout: timeout > 0 ? .seconds(timeout) : nil) { s in
            for list in lists {
                if let raw = s.popTail(list) { return .popped(ReservedMessage(listKey: list, raw: raw, recordedTag: nil)) }
            }
            return nil
        }
        guard case .popped(let message) = outcome else { return nil }
        return message
    }

    /// `BLMOVE list list RIGHT RIGHT`: returns once `list` has a message, leaving it there.
    func waitForMessage(on list: String, timeout: Int) async {
        _ = await store.wait(driver: id, endsWhenStopping: true, timeout: timeout > 0 ? .seconds(timeout) : nil) { s in
            s.lists[list] == nil ? nil : .done
        }
    }

    // MARK: Holding

    /// Records at once, also when not `durably`: Redis's driver queues such a record lazily and
    /// an ack that finds it still queued drops both, which ends in the same state (no record)
    /// as recording it here and acking it; only the log shows the record.
    func recordHeld(_ held: HeldMessage, durably: Bool) async {
        let record = InMemoryBroker.Held(envelope: held.envelope, exchange: held.exchange, routingKey: held.routingKey, owner: holder.owner, running: false)
        let number = store.write { s in s.hold(held.tag, record) }
        if durably { await store.waitApplied(number, driver: id) }
    }

    /// Whether the record of `tag` names `owner` (running or not).
    private static func names(_ s: InMemoryBroker.State, _ tag: String, _ owner: String) -> Bool {
        s.held[tag]?.owner == owner
    }

    /// kombu's ack: the record goes whoever holds it, unless this worker's liveness may have
    /// lapsed (``BrokerHolder/isFenced``): then only where the record still names it.
    func ack(tag: String) {
        let fenced = holder.isFenced()
        let owner = holder.owner
        store.write { s in
            if fenced && !Self.names(s, tag, owner) { return }
            s.held[tag] = nil
            s.log.append(.acked(tag: tag))
        }
    }

    func markRunning(tag: String, stored: Bool) async {
        let fenced = holder.isFenced()
        let owner = holder.owner
        let number = store.write { s in
            // Redis's HSET sets the owner record whoever held it; there is no record to mark
            // here without kombu's entry, which a sweep would drop anyway.
            guard s.held[tag] != nil, !fenced || Self.names(s, tag, owner) else { return }
            s.held[tag]?.owner = owner
            s.held[tag]?.running = true
            s.log.append(.markedRunning(tag: tag))
        }
        if stored { await store.waitApplied(number, driver: id) }
    }

    /// Back at the tail of `list` (read next) and the record gone, after every write before it.
    func restore(tag: String, to list: String, envelope: [UInt8]) async {
        let number = store.write { s in
            s.held[tag] = nil
            s.pushTail(envelope, to: list)
            s.log.append(.restored(tag: tag))
        }
        await store.waitApplied(number, driver: id)
    }

    func releaseIfHeld(tag: String, restoring: (list: String, envelope: [UInt8])?) async -> Bool? {
        let owner = holder.owner
        let released = Mutex<Bool?>(nil)
        let restoreTo = restoring.map { ($0.list, $0.envelope) }
        let number = store.write { s in
            let done = Self.names(s, tag, owner)
            released.withLock { $0 = done }
            guard done else { return }
            s.held[tag] = nil
            if let (list, envelope) = restoreTo {
                s.pushTail(envelope, to: list)
                s.log.append(.restored(tag: tag))
            } else {
                s.log.append(.acked(tag: tag))
            }
        }
        await store.waitApplied(number, driver: id)
        return released.withLock { $0 }
    }

    func isStillHeld(tag: String) async -> Bool {
        await flushed()
        let owner = holder.owner
        return store.state.withLock { Self.names($0, tag, owner) }
    }

    func deadLetter(_ letter: DeadLetter, to list: String, heldAs tag: String?) async {
        let bytes = letter.encoded()
        let number = store.write { s in
            s.pushHead(bytes, to: list)
            if let tag { s.held[tag] = nil }
            s.log.append(.deadLettered(tag: tag))
        }
        await store.waitApplied(number, driver: id)
    }

    // MARK: Publishing and results

    func declare(queue: String) async {
        let number = store.write { s in s.declaredQueues.insert(queue) }
        await store.waitApplied(number, driver: id)
    }

    func publish(_ message: TaskMessage) async {
        let number = store.write { s in
            s.declaredQueues.insert(message.routingKey)
            s.publish(message)
        }
        await store.waitApplied(number, driver: id)
    }

    var storesResults: Bool { store.storesResults }

    func storeResult(_ meta: ResultMeta) {
        guard storesResults else { return }
        store.write { s in
            s.results[meta.taskID] = meta
            s.log.append(.stored(taskID: meta.taskID, state: meta.status))
        }
    }

    func storedResult(of taskID: String) async -> ResultMeta? {
        store.state.withLock { $0.results[taskID] }
    }

    func resultsStored() async { await flushed() }

    func keepForRetry(taskID: String, raw: [UInt8]) {
        store.write { s in
            s.keptOriginals[taskID] = raw
            s.log.append(.keptOriginal(taskID: taskID))
        }
    }

    // MARK: The write queue

    /// Nothing is queued lazily here (see ``recordHeld(_:durably:)``).
    func sendQueued() {}

    func flushed() async { await store.waitApplied(store.lastWrite, driver: id) }

    /// No limit on the writes held back while the store refuses them.
    func waitIfBacklogged() async {}

    var queuedWrites: Int { store.state.withLock { $0.pending.count } }

    var refusesWrites: Bool { store.refusesWrites }

    func waitUntilWritesAccepted() async {
        _ = await store.wait(driver: id, endsWhenStopping: true, timeout: nil) { s in s.refusing ? nil : .done }
    }

    // MARK: Liveness

    /// Never expires by itself: a test ends a holder's liveness with ``InMemoryBroker/expireLiveness(of:)``.
    func refreshLiveness(window: LivenessWindow) async -> Bool {
        let holder = holder
        return store.mutate { s in
            guard !s.refusing else { return false }
            s.liveness[holder.node] = holder.incarnation
            return true
        }
    }

    /// As ``OrphanRecovery``'s sweep, in one step: each message held by another holder whose
    /// liveness is gone (or names a newer incarnation) goes back to the tail of its list flagged
    /// redelivered; one its holder was running counts one more lost worker
    /// (``LostWorkers/counting(_:)``), and past `policy.redeliveries` it is dead-lettered instead.
    func sweepOrphans(policy: OrphanPoisonPolicy) async -> OrphanSweep {
        let selfOwner = holder.owner
        return store.mutate { s -> OrphanSweep in
            guard !s.refusing else { return OrphanSweep() }
            var sweep = OrphanSweep()
            for (tag, record) in s.held.sorted(by: { $0.key < $1.key }) {
                guard let value = record.owner, let holder = OrphanRecovery.parseOwner(value),
                      OrphanRecovery.owner(node: holder.node, incarnation: holder.incarnation) != selfOwner,
                      s.liveness[holder.node] != holder.incarnation else { continue }
                guard let message = try? TaskMessage.decode(bytes: record.envelope) else {
                    // Not a task: only its owner record goes, as in Redis.
                    s.held[tag]?.owner = nil
                    continue
                }
                switch OrphanRecovery.fate(of: message, envelope: record.envelope, running: record.running, policy: policy) {
                case .deadLetter(let letter):
                    s.held[tag] = nil
                    s.pushHead(letter.encoded(), to: policy.deadLetterKey)
                    s.log.append(.deadLettered(tag: tag))
                    sweep.deadLettered.append(message)
                    continue
                case .restore(let restored):
                    s.held[tag] = nil
                    s.pushTail(restored.encoded(), to: restored.listKey)
                    s.log.append(.restored(tag: tag))
                }
                sweep.restored += 1
            }
            return sweep
        }
    }

    func forgetLiveness() async {
        let holder = holder
        store.mutate { s in s.liveness[holder.node] = nil }
    }

    /// Blocking pops and waits for accepted writes end (with nothing); waits for this driver's
    /// own writes go on until they are applied or the driver closes.
    func stopping() { store.endWaits(of: id, closing: false) }

    /// Every wait of this driver ends at once, now and later; its writes held back stay queued.
    func close() { store.endWaits(of: id, closing: true) }
}

/// A reservation whose messages were taken when it was made (as the script runs when sent).
struct InMemoryReservation: BrokerReservation {
    let count: Int
    let lists: [String]
    let taken: [ReservedMessage]

    func messages() async -> [ReservedMessage] { taken }
}
