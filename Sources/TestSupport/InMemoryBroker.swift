public import Celeriac
import Foundation
import Synchronization

/// A broker and result store in memory, shared like one redis-server: each worker run gets its
/// own ``BrokerDriver`` from ``driver(for:)``, so several workers can share one store, and a
/// test publishes, pushes raw bytes and reads everything back (``snapshot``).
///
/// The semantics are ``RedisBrokerDriver``'s, with kombu's conventions: one list per list key
/// (``TaskMessage/listKey``); a publish pushes at the head (`LPUSH`), a reservation or blocking
/// pop takes from the tail (`RPOP`), a restore pushes at the tail (`RPUSH`: read next); a held
/// message has one record per delivery tag with its holder and running mark; results by task id;
/// kept originals of failed tasks; one liveness value per node.
///
/// Nothing polls: every wait (a blocking pop, ``until(_:)``, a write held back while the store
/// refuses writes) is a continuation that every mutation re-checks, and a timeout is a timer task.
///
/// Every change to the lists, held records, results and kept originals is appended to an ordered
/// ``Operation`` log (declarations and liveness are not), so a test can check the order of a
/// task's writes (its result before its late ack, its kept original before its FAILURE).
///
/// The test's own ``publish(_:)`` and ``push(_:to:)`` always apply, as a client's on another
/// connection would when a test sets ``refusesWrites`` to hold back a worker's writes.
public final class InMemoryBroker: Sendable {
    /// One change to the store, in the order it was applied.
    public enum Operation: Equatable, Sendable {
        /// Raw bytes pushed at the head of `list` by the test (``push(_:to:)``).
        case pushed(list: String)
        /// A task message pushed at the head of its list (by a driver or the test).
        case published(taskID: String)
        /// A message recorded as held under `tag` (by a reservation or ``BrokerDriver/recordHeld(_:durably:)``).
        case recorded(tag: String)
        /// A held message marked as running.
        case markedRunning(tag: String)
        /// A held message's record removed for good.
        case acked(tag: String)
        /// A held message put back at the tail of its list, its record removed.
        case restored(tag: String)
        /// A letter pushed to a dead-letter list; `tag` is the record removed with it, if any.
        case deadLettered(tag: String?)
        /// A result stored.
        case stored(taskID: String, state: TaskState)
        /// The original message of a failed task kept for a retry.
        case keptOriginal(taskID: String)
        /// A chord's header size set (before its last member is published).
        case chordSizeSet(groupID: String, size: Int)
        /// A header member's part recorded (`counted`: not a duplicate of one already recorded).
        case chordPartRecorded(groupID: String, taskID: String, counted: Bool)
        /// A chord's keys cleaned up after its body was published.
        case chordFinished(groupID: String)
        /// A failed chord's size dropped.
        case chordAbandoned(groupID: String)
    }

    /// A chord's keys, as the part-return, claim and cleanup scripts keep them in Redis (no
    /// expiry: nothing here has a clock).
    public struct Chord: Equatable, Sendable {
        /// `.j`: entries by score (the header index; `+inf` as `Double.infinity`), in order of arrival.
        public var parts: [(score: Double, entry: [UInt8])] = []
        /// `.d`: `tid:score` of the parts recorded.
        public var seen: Set<String> = []
        /// `.s`.
        public var size: Int?
        /// `.t`.
        public var added = 0
        /// `.c`: the claim's token, or `done`.
        public var claim: String?

        public static func == (a: Chord, b: Chord) -> Bool {
            a.parts.map(\.score) == b.parts.map(\.score) && a.parts.map(\.entry) == b.parts.map(\.entry) && a.seen == b.seen
                && a.size == b.size && a.added == b.added && a.claim == b.claim
        }
    }

    /// A held message's record: kombu's `unacked` entry with Celeriac's owner record.
    public struct Held: Equatable, Sendable {
        public var envelope: [UInt8]
        public var exchange: String
        public var routingKey: String
        /// The holder's `node incarnation` (``BrokerHolder/owner``); `nil` once an orphan sweep
        /// found the entry was not a task it could restore (kombu's entry stays, as in Redis).
        public var owner: String?
        /// The holder marked it as running (an `acks_late` message that started).
        public var running: Bool
    }

    /// The store at one moment.
    public struct Snapshot: Sendable {
        /// Every non-empty list, head (where a publish pushes) first, tail (read next) last.
        public var lists: [String: [[UInt8]]]
        /// Held messages by delivery tag.
        public var held: [String: Held]
        /// Stored results by task id.
        public var results: [String: ResultMeta]
        /// Kept originals of failed tasks by task id.
        public var keptOriginals: [String: [UInt8]]
        /// Chords by group id.
        public var chords: [String: Chord]
        /// Liveness by node name: the incarnation that refreshed it last.
        public var liveness: [String: String]
        /// Queues declared.
        public var declaredQueues: Set<String>
        /// Every task message published, in order (by drivers, as a worker's retries, and by the test).
        public var published: [TaskMessage]
        /// The most messages ever held at once.
        public var peakHeld: Int
        /// Writes held back while the store refuses writes.
        public var queuedWrites: Int
        /// Every change, in order.
        public var log: [Operation]

        /// The list at `key`, head first (empty when absent).
        public func list(_ key: String) -> [[UInt8]] { lists[key] ?? [] }

        /// The task messages on `key`, head first (undecodable entries left out).
        public func messages(in key: String) -> [TaskMessage] {
            list(key).compactMap { try? TaskMessage.decode(bytes: $0) }
        }

        /// The letters on a dead-letter list, newest first.
        public func deadLetters(in key: String = DeadLetter.listKey) -> [DeadLetter] {
            list(key).compactMap { try? DeadLetter.decode($0) }
        }

        /// Where `operation` first appears in ``log``.
        public func index(of operation: Operation) -> Int? { log.firstIndex(of: operation) }
    }

    /// What a wait ends with.
    enum Outcome: Sendable {
        case done
        case popped(ReservedMessage)
    }

    /// A suspended wait: `attempt` runs under the lock after every mutation (and may itself
    /// mutate, e.g. pop); non-nil ends the wait with that outcome.
    struct Waiter {
        let id: Int
        /// The driver whose wait this is (`nil`: the test's).
        let driver: Int?
        /// Ended by ``BrokerDriver/stopping()`` (blocking pops, waits for accepted writes), not
        /// only by ``BrokerDriver/close()``.
        let endsWhenStopping: Bool
        let attempt: @Sendable (inout State) -> Outcome?
        let continuation: CheckedContinuation<Outcome?, Never>
    }

    struct State {
        var lists: [String: [[UInt8]]] = [:]
        var held: [String: Held] = [:]
        var results: [String: ResultMeta] = [:]
        var keptOriginals: [String: [UInt8]] = [:]
        var chords: [String: Chord] = [:]
        var liveness: [String: String] = [:]
        var declaredQueues: Set<String> = []
        var published: [TaskMessage] = []
        var peakHeld = 0
        var log: [Operation] = []

        /// Whether writes are refused now (``InMemoryBroker/refusesWrites``).
        var refusing = false
        /// Writes made while refusing, applied in order once writes are accepted.
        var pending: [(number: Int, apply: @Sendable (inout State) -> Void)] = []
        /// Numbers given to writes so far, and the last one applied.
        var lastWrite = 0
        var lastApplied = 0

        var waiters: [Waiter] = []
        var nextWaiter = 0
        /// Waits cancelled before they were registered.
        var cancelledWaits: Set<Int> = []
        var nextDriver = 0
        var stoppingDrivers: Set<Int> = []
        var closedDrivers: Set<Int> = []

        /// `LPUSH`.
        mutating func pushHead(_ value: [UInt8], to key: String) { lists[key, default: []].insert(value, at: 0) }

        /// `RPUSH`.
        mutating func pushTail(_ value: [UInt8], to key: String) { lists[key, default: []].append(value) }

        /// `RPOP`.
        mutating func popTail(_ key: String) -> [UInt8]? {
            guard var list = lists[key], let last = list.popLast() else { return nil }
            lists[key] = list.isEmpty ? nil : list
            return last
        }

        mutating func hold(_ tag: String, _ record: Held) {
            held[tag] = record
            peakHeld = max(peakHeld, held.count)
            log.append(.recorded(tag: tag))
        }

        /// `set_chord_size`: the size set and any claim (or `done`) of an earlier chord dropped.
        mutating func setChordSize(_ groupID: String, _ size: Int) {
            chords[groupID, default: Chord()].size = size
            chords[groupID]?.claim = nil
            log.append(.chordSizeSet(groupID: groupID, size: size))
        }

        mutating func publish(_ message: TaskMessage) {
            pushHead(message.encoded(), to: message.listKey)
            published.append(message)
            log.append(.published(taskID: message.id))
        }

        var snapshot: Snapshot {
            Snapshot(lists: lists, held: held, results: results, keptOriginals: keptOriginals, chords: chords, liveness: liveness,
                     declaredQueues: declaredQueues, published: published, peakHeld: peakHeld, queuedWrites: pending.count, log: log)
        }
    }

    let state = Mutex(State())
    /// Whether drivers store results (``BrokerDriver/storesResults``): a result backend is configured.
    public let storesResults: Bool

    public init(storesResults: Bool = true) {
        self.storesResults = storesResults
    }

    /// A driver for one run of one worker (`Worker(settings:tasks:logger:middleware:driver:)`
    /// passes the holder): what it takes is held by `holder`.
    public func driver(for holder: BrokerHolder) -> any BrokerDriver {
        InMemoryBrokerDriver(store: self, holder: holder, id: state.withLock { s in
            defer { s.nextDriver += 1 }
            return s.nextDriver
        })
    }

    // MARK: The test's side

    /// The store now.
    public var snapshot: Snapshot { state.withLock { $0.snapshot } }

    /// Carries out a client's workflow plan (``CanvasPlanner``) as a Swift client would: the
    /// messages in order, each chord's size set where the plan puts it.
    public func apply(_ plan: CanvasPlan) {
        mutate { s in
            for step in plan.steps {
                switch step {
                case .publish(let message): s.publish(message)
                case .setChordSize(let groupID, let size):
                    s.setChordSize(groupID, size)
                }
            }
        }
    }

    /// Publishes `messages` at the head of their lists, in order, in one step (as a client's
    /// `LPUSH`es would; a worker sees all of them or none).
    public func publish(_ messages: [TaskMessage]) {
        mutate { s in for m in messages { s.publish(m) } }
    }

    /// Pushes raw bytes (e.g. a message no worker can decode) at the head of `list`.
    public func push(_ raw: [UInt8], to list: String) {
        mutate { s in
            s.pushHead(raw, to: list)
            s.log.append(.pushed(list: list))
        }
    }

    /// Removes `node`'s liveness, as if it had expired: peers' orphan sweeps then restore what
    /// it holds. (Liveness never expires by itself here.)
    public func expireLiveness(of node: String) {
        mutate { s in s.liveness[node] = nil }
    }

    /// Whether the store refuses writes (a Redis out of memory or read-only): reservations take
    /// nothing, writes are kept in order and applied once it accepts them again, and waits for
    /// them last until then.
    public var refusesWrites: Bool {
        get { state.withLock { $0.refusing } }
        set {
            mutate { s in
                s.refusing = newValue
                guard !newValue else { return }
                let pending = s.pending
                s.pending = []
                for write in pending {
                    write.apply(&s)
                    s.lastApplied = write.number
                }
            }
        }
    }

    /// Returns once `condition` holds for the store (re-checked after every change, never
    /// polled): `true`, or `false` when the waiting task was cancelled first (a test's time limit).
    @discardableResult
    public func until(_ condition: @escaping @Sendable (Snapshot) -> Bool) async -> Bool {
        await wait(driver: nil, endsWhenStopping: false, timeout: nil) { s in condition(s.snapshot) ? .done : nil } != nil
    }

    // MARK: Mutations and waits (for the drivers)

    /// Runs `body` under the lock, then ends every wait the change satisfied.
    @discardableResult
    func mutate<R>(_ body: (inout State) -> R) -> R {
        let (result, ready) = state.withLock { s in
            let result = body(&s)
            return (result, Self.settle(&s))
        }
        for (continuation, outcome) in ready { continuation.resume(returning: outcome) }
        return result
    }

    /// Tries every waiter in the order they came (so two workers' blocking pops are served
    /// first come, first served), again while any of them ended: a pop can satisfy a wait for
    /// an empty list.
    private static func settle(_ s: inout State) -> [(CheckedContinuation<Outcome?, Never>, Outcome)] {
        var ready: [(CheckedContinuation<Outcome?, Never>, Outcome)] = []
        var progressed = true
        while progressed {
            progressed = false
            var i = 0
            while i < s.waiters.count {
                let attempt = s.waiters[i].attempt
                if let outcome = attempt(&s) {
                    ready.append((s.waiters.remove(at: i).continuation, outcome))
                    progressed = true
                } else {
                    i += 1
                }
            }
        }
        return ready
    }

    /// Waits until `attempt` gives an outcome (tried now, then after every change), or
    /// `timeout` passes (a timer task, not a poll), or the task is cancelled, or the driver
    /// stops or closes: `nil` for all of those.
    func wait(driver: Int?, endsWhenStopping: Bool, timeout: Duration?,
              _ attempt: @escaping @Sendable (inout State) -> Outcome?) async -> Outcome? {
        let id = state.withLock { s in
            defer { s.nextWaiter += 1 }
            return s.nextWaiter
        }
        let timer = timeout.map { timeout in
            Task { [weak self] in
                guard (try? await Task.sleep(for: timeout)) != nil else { return }
                self?.endWait(id)
            }
        }
        defer { timer?.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Outcome?, Never>) in
                let (now, ready): (Outcome??, [(CheckedContinuation<Outcome?, Never>, Outcome)]) = state.withLock { s in
                    if s.cancelledWaits.remove(id) != nil { return (.some(nil), []) }
                    if let driver, s.closedDrivers.contains(driver) || (endsWhenStopping && s.stoppingDrivers.contains(driver)) {
                        return (.some(nil), [])
                    }
                    if let outcome = attempt(&s) { return (.some(outcome), Self.settle(&s)) }
                    s.waiters.append(Waiter(id: id, driver: driver, endsWhenStopping: endsWhenStopping, attempt: attempt, continuation: continuation))
                    return (nil, [])
                }
                for (c, o) in ready { c.resume(returning: o) }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            self.endWait(id)
        }
    }

    /// Ends wait `id` with `nil` (timed out or cancelled); one not registered yet ends as it registers.
    private func endWait(_ id: Int) {
        let waiter = state.withLock { s -> CheckedContinuation<Outcome?, Never>? in
            guard let i = s.waiters.firstIndex(where: { $0.id == id }) else {
                s.cancelledWaits.insert(id)
                return nil
            }
            return s.waiters.remove(at: i).continuation
        }
        waiter?.resume(returning: nil)
    }

    /// Ends the waits of `driver` that a stop (or, with `closing`, a close) ends.
    func endWaits(of driver: Int, closing: Bool) {
        let ended = state.withLock { s -> [CheckedContinuation<Outcome?, Never>] in
            if closing { s.closedDrivers.insert(driver) } else { s.stoppingDrivers.insert(driver) }
            var ended: [CheckedContinuation<Outcome?, Never>] = []
            s.waiters.removeAll { w in
                guard w.driver == driver && (closing || w.endsWhenStopping) else { return false }
                ended.append(w.continuation)
                return true
            }
            return ended
        }
        for continuation in ended { continuation.resume(returning: nil) }
    }

    /// Applies `apply` now, or, while the store refuses writes, keeps it to apply in order once
    /// writes are accepted. Returns its number for ``waitApplied(_:driver:)``.
    @discardableResult
    func write(_ apply: @escaping @Sendable (inout State) -> Void) -> Int {
        mutate { s in
            s.lastWrite += 1
            if s.refusing {
                s.pending.append((s.lastWrite, apply))
            } else {
                apply(&s)
                s.lastApplied = s.lastWrite
            }
            return s.lastWrite
        }
    }

    /// Returns once write `number` (and every one before it) was applied, or `driver` closed.
    func waitApplied(_ number: Int, driver: Int) async {
        _ = await wait(driver: driver, endsWhenStopping: false, timeout: nil) { s in s.lastApplied >= number ? .done : nil }
    }

    /// The number of the last write made so far.
    var lastWrite: Int { state.withLock { $0.lastWrite } }
}
