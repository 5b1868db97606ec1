/// The reservation loop's decisions between batches, kept apart from its I/O so they can be
/// tested alone: how many messages to ask for, when a second call goes out before the first
/// one's batch came, when an idle worker blocks on one message instead, and which lane (last-pop
/// list, ``BrokerDriver/reserve(from:count:lane:)``) each call takes.
struct ReservationWindow: Equatable {
    /// The most messages one reservation takes: enough to amortise the round trip, small enough
    /// that one batch's decoding does not delay the pool.
    static let batchLimit = 128

    /// Reservations in flight at once while the queue has a backlog. With one, Redis ran a
    /// batch's script and then idled while the reply travelled and was parsed before the next
    /// call could go out; the reply's round trip, not Redis or the worker's CPU, set the drain's
    /// pace. A second call, sent as soon as enough slots free up, has Redis run the next script
    /// meanwhile. Each holds its own prefetch slots, so the window is unchanged.
    static let inFlightLimit = 2

    /// After a message that a blocking pop waited for, the next reservations are blocking pops
    /// too, up to this many in a row, before the script is tried again. An idle worker that gets
    /// one message at a time (a `delay().get()` caller) then skips the script's empty round trip,
    /// which ran beside each task and cost the round trip about 80 µs on two cores; a backlog
    /// that builds up meanwhile costs at most this many single pops before batches resume.
    static let blockingPopStreak = 16

    /// Blocking pops in a row that brought a message since the script last found something.
    private(set) var blockingPops = 0
    /// The last batch filled every slot it asked for, so more is probably waiting.
    private(set) var backlog = false
    private var lane = 0

    /// The lane for the next call: alternate, so each call in flight has its own last-pop list.
    mutating func nextLane() -> Int {
        defer { lane = (lane + 1) % Self.inFlightLimit }
        return lane
    }

    /// With nothing in flight and a slot taken: whether to block on one message instead of
    /// reserving (in a streak, unless the worker waits without taking, see `waitsBeforeTaking`).
    func prefersBlockingPop(waitsBeforeTaking: Bool) -> Bool {
        blockingPops > 0 && blockingPops < Self.blockingPopStreak && !waitsBeforeTaking
    }

    /// While the oldest call's batch is awaited with `othersInFlight` more calls out: how many
    /// free slots to gather before sending the next call, or `nil` to just wait. Only during a
    /// backlog, and a quarter of the prefetch `window` at a time.
    func overlap(othersInFlight: Int, window: Int, stopping: Bool) -> Int? {
        guard backlog, othersInFlight + 1 < Self.inFlightLimit, !stopping else { return nil }
        return max(1, min(Self.batchLimit, window / 4))
    }

    /// What to do with a batch of `got` messages from a call that asked for `asked`.
    enum AfterBatch: Equatable {
        /// Hand the batch on; `release` slots it did not fill go back.
        case handOn(release: Int)
        /// Nothing came and nothing else is in flight: block on one message, holding one slot;
        /// `release` go back.
        case blockOnOne(release: Int)
        /// Nothing came: every slot goes back.
        case releaseAll(Int)
    }

    mutating func received(_ got: Int, asked: Int, othersInFlight: Int, stopping: Bool) -> AfterBatch {
        backlog = got == asked
        guard got == 0 else {
            blockingPops = 0
            return .handOn(release: asked - got)
        }
        if othersInFlight == 0 && !stopping { return .blockOnOne(release: asked - 1) }
        return .releaseAll(asked)
    }

    /// A blocking pop ended: `gotOne` when it brought a message (the streak goes on, or starts),
    /// not when it timed out (the queue stayed empty: the streak is kept as it is).
    mutating func blockingPopEnded(gotOne: Bool) {
        guard gotOne else { return }
        blockingPops = blockingPops > 0 && blockingPops < Self.blockingPopStreak ? blockingPops + 1 : 1
    }

    /// A wait without taking ended (the worker takes what came with a reservation next).
    mutating func waitedWithoutTaking() {
        blockingPops = 0
    }
}
