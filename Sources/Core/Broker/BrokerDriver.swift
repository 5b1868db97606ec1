/// Everything a worker does with its broker and result store, as one seam: taking messages and
/// recording them as held, acking, restoring, dead-lettering, publishing, storing results, and
/// the liveness key by which peers tell it is alive.
///
/// ``RedisBrokerDriver`` is the real one: kombu's lists and `unacked` bookkeeping, so Python
/// workers and clients share the queues. A test of worker logic gives the worker an in-memory
/// driver instead (the test kit has one), and another transport plugs in here.
///
/// A driver belongs to one run of one worker (``BrokerHolder``): everything it records as held
/// is held by that holder. Writes that must not be lost (results, acks, restores, dead letters)
/// are the driver's to keep and retry until the store takes them, so none of these methods
/// throws; the driver logs what goes wrong, once per episode.
///
/// Ordering: ``ack(tag:)``, ``storeResult(_:)``, ``markRunning(tag:)`` and ``keepForRetry(taskID:raw:)``
/// queue writes that reach the store in the order they were made (a driver may batch them);
/// ``flushed()`` returns once everything queued before it is stored.
public protocol BrokerDriver: Sendable {
    // MARK: Taking messages

    /// Starts taking up to `count` messages from `lists` (list keys in consume order), each
    /// recorded as held in the same atomic step, so a message is never off its list without a
    /// record. Reservations made one after another come back in that order; a worker keeps two
    /// in flight on alternate `lane`s (0 and 1) so that the store prepares the next batch while
    /// the last one travels.
    func reserve(from lists: [String], count: Int, lane: Int) -> any BrokerReservation

    /// Waits up to `timeout` seconds for a message on any of `lists` and takes it, not yet
    /// recorded as held (``recordHeld(_:durably:)`` does that). `nil` on timeout or an error.
    func blockingPop(from lists: [String], timeout: Int) async -> ReservedMessage?

    /// Waits up to `timeout` seconds for a message on `list` without taking it.
    func waitForMessage(on list: String, timeout: Int) async

    // MARK: Holding

    /// Records a message taken by ``blockingPop(from:timeout:)`` as held by this worker. When
    /// `durably`, it returns once the record is stored (an `acks_late` message must outlive a
    /// crash from here on); otherwise the record is queued without being sent, and an
    /// ``ack(tag:)`` that finds it still queued drops both.
    func recordHeld(_ held: HeldMessage, durably: Bool) async

    /// Removes a held message's record: it is done with, for good.
    func ack(tag: String)

    /// Marks a held message as running, so that this worker's death while running it counts
    /// against the message (``LostWorkers``); returns once the mark is stored when `stored`.
    func markRunning(tag: String, stored: Bool) async

    /// Puts a held message back at the head of `list` (`envelope`: as it should be read next,
    /// flagged as redelivered) and removes its record, after every ack queued before it.
    func restore(tag: String, to list: String, envelope: [UInt8]) async

    /// Acks (or restores, with `restoring`) a message only if its record still names this
    /// worker: after a lapse of the worker's liveness a peer may have restored it and may hold
    /// it now under the same tag. Whether it was done; `nil` when the store never answered.
    func releaseIfHeld(tag: String, restoring: (list: String, envelope: [UInt8])?) async -> Bool?

    /// Whether the record of `tag` still names this worker (a reply that cannot be had says yes).
    func isStillHeld(tag: String) async -> Bool

    /// Pushes `letter` to the dead-letter `list` and, when the message was recorded as held
    /// under `tag`, removes that record in the same step (or a restore would bring it back).
    func deadLetter(_ letter: DeadLetter, to list: String, heldAs tag: String?) async

    // MARK: Publishing and results

    /// Declares `queue` so that clients and peers see it (kombu's bindings).
    func declare(queue: String) async

    /// Publishes a task message to its queue.
    func publish(_ message: TaskMessage) async

    /// Whether results are stored at all (a result backend is configured).
    var storesResults: Bool { get }

    /// Queues `meta` to be stored under its task id and announced to waiting clients.
    func storeResult(_ meta: ResultMeta)

    /// The stored result of `taskID`, if any (`nil` also when it cannot be read).
    func storedResult(of taskID: String) async -> ResultMeta?

    /// Returns once every result queued before it is stored (a late ack waits for its result).
    func resultsStored() async

    // MARK: Chords (on the result store, as Celery's Redis result backend keeps them)

    /// Sets a chord's header size just before its last member is published (`DEL .c`, then
    /// `SET .s size EX expires`), so the header cannot complete unseen.
    func setChordSize(groupID: String, size: Int, expires: Int) async

    /// Records a header member's part once (after its own result is stored) and tells whether
    /// this worker now joins the chord; `nil` when no result store is configured.
    func recordChordPart(_ part: ChordPart) async -> ChordPartCount?

    /// The recorded parts of a chord, in header order when `ordered`; `nil` if they cannot be read.
    func chordParts(groupID: String, ordered: Bool) async -> [[UInt8]]?

    /// Keeps (or takes back, if it lapsed) the join's claim for `seconds` while the body is
    /// published; false when another worker holds it.
    func extendChordClaim(groupID: String, token: String, seconds: Int) async -> Bool

    /// After the body is published: deletes the chord's keys and marks it done, if the claim is
    /// still `token`'s; false when it was lost (the keys are left to expire).
    func finishChord(groupID: String, token: String, doneExpires: Int) async -> Bool

    /// After the chord failed: deletes its size, so a late copy of a member cannot fail it again.
    func abandonChord(groupID: String) async

    /// Queues the original message of a failed task, so that it can be re-sent exactly.
    func keepForRetry(taskID: String, raw: [UInt8])

    // MARK: The write queue

    /// Sends queued writes now (a message is about to wait: its lazy record must not).
    func sendQueued()

    /// Returns once every write queued before it is stored.
    func flushed() async

    /// Waits while the write queue is longer than the driver wants (tasks outpace the store).
    func waitIfBacklogged() async

    /// Writes queued and not yet stored.
    var queuedWrites: Int { get }

    /// Whether the store refuses writes now (out of memory, read-only): take no new messages.
    var refusesWrites: Bool { get }

    /// Returns once the store takes writes again, or the worker is stopping.
    func waitUntilWritesAccepted() async

    // MARK: Liveness

    /// Refreshes this worker's liveness for `window`; whether the store took it.
    func refreshLiveness(window: LivenessWindow) async -> Bool

    /// Puts back the messages held by workers whose liveness lapsed, dead-lettering those their
    /// holders died running more often than `policy` allows.
    func sweepOrphans(policy: OrphanPoisonPolicy) async -> OrphanSweep

    /// Removes this worker's liveness (a clean exit).
    func forgetLiveness() async

    /// The worker is stopping: waits for replies lost to an outage end, and waiters go.
    func stopping()

    /// Gives up on the store: every wait on it fails at once.
    func close()
}

/// A reservation started by ``BrokerDriver/reserve(from:count:lane:)``.
public protocol BrokerReservation: Sendable {
    /// The most messages it takes.
    var count: Int { get }
    /// The lists it takes from, in consume order.
    var lists: [String] { get }
    /// The messages taken (empty when none waited), once they came.
    func messages() async -> [ReservedMessage]
}

/// Who holds what a driver takes: one run of one worker.
public struct BrokerHolder: Sendable {
    /// The worker's node name (`celery@host`).
    public var node: String
    /// A fresh id for this run: a restarted worker is a different holder.
    public var incarnation: String
    /// Whether the worker's liveness may have lapsed (``LivenessWindow/fence``): acks and
    /// running marks then apply only where the record still names it.
    public var isFenced: @Sendable () -> Bool

    public init(node: String, incarnation: String, isFenced: @escaping @Sendable () -> Bool = { false }) {
        self.node = node
        self.incarnation = incarnation
        self.isFenced = isFenced
    }

    /// The value recorded beside each held message: node and incarnation.
    public var owner: String { node + " " + incarnation }
}

/// A message a driver took off a queue.
public struct ReservedMessage: Equatable, Sendable {
    /// The list it came from (`celery`, or a priority list such as `celery\x06\x163`).
    public let listKey: String
    /// The message as it was on the list.
    public let raw: [UInt8]
    /// The tag it was recorded as held under; `nil` when it was not recorded (taken by a
    /// blocking pop, or not parseable).
    public let recordedTag: String?

    public init(listKey: String, raw: [UInt8], recordedTag: String?) {
        self.listKey = listKey
        self.raw = raw
        self.recordedTag = recordedTag
    }
}

/// What ``BrokerDriver/recordHeld(_:durably:)`` records: kombu's `unacked` entry.
public struct HeldMessage: Sendable {
    public var tag: String
    public var envelope: [UInt8]
    public var exchange: String
    public var routingKey: String

    public init(tag: String, envelope: [UInt8], exchange: String, routingKey: String) {
        self.tag = tag
        self.envelope = envelope
        self.exchange = exchange
        self.routingKey = routingKey
    }
}

/// How an orphan sweep treats a message its holder died running.
public struct OrphanPoisonPolicy: Sendable {
    /// Deaths while running a message before it is dead-lettered instead of restored.
    public var redeliveries: Int
    /// The dead-letter list.
    public var deadLetterKey: String
    /// The sweeping worker's node name, for the dead letter's record.
    public var node: String

    public init(redeliveries: Int, deadLetterKey: String, node: String) {
        self.redeliveries = redeliveries
        self.deadLetterKey = deadLetterKey
        self.node = node
    }
}

/// What one orphan sweep did.
public struct OrphanSweep: Sendable {
    /// Messages put back on their queues.
    public var restored = 0
    /// Messages their holders died running more often than allowed: dead-lettered instead of
    /// restored, for the sweeper to record as failed.
    public var deadLettered: [TaskMessage] = []

    public init(restored: Int = 0, deadLettered: [TaskMessage] = []) {
        self.restored = restored
        self.deadLettered = deadLettered
    }
}
