import Celeriac
import DequeModule
import Foundation

/// Taking messages: the reservation loop (batches taken and recorded as held by one Redis script,
/// two requests in flight), the blocking pop an idle worker waits with, and the consume loop that
/// starts each taken message's processing in the order it was taken.
extension Worker {
    /// The most messages one reservation takes: enough to amortise the round trip, small enough
    /// that one batch's decoding does not delay the pool.
    static let reservationBatch = 128

    /// After a message that a blocking pop waited for, the next reservations are blocking pops
    /// too, up to this many in a row, before the script is tried again. An idle worker that gets
    /// one message at a time (a `delay().get()` caller) then skips the script's empty round trip,
    /// which ran beside each task and cost the round trip about 80 µs on two cores; a backlog
    /// that builds up meanwhile costs at most this many single pops before batches resume.
    public static let blockingPopStreak = 16

    /// Receives what ``reservations(_:into:)`` takes, in the order it took it, and starts each
    /// message's processing. Reserving runs in a task of its own so that the next batch's round
    /// trip (and Redis's script) overlaps the decoding of this one; one stream and one reader
    /// keep the delivery order.
    func consume(_ live: Live, group: inout DiscardingTaskGroup) async {
        let (batches, taken) = AsyncStream.makeStream(of: [ReservedMessage].self)
        group.addTask { await self.reservations(live, into: taken) }
        // Read to the end even when stopping: every reserved message holds a prefetch slot and
        // is either started or put back on its queue here.
        for await batch in batches {
            for reserved in batch {
                guard let delivery = await receive(reserved, live) else {
                    prefetch.release()
                    continue
                }
                if stopping.load(ordering: .relaxed) {
                    await restore(delivery, live)
                    prefetch.release()
                    continue
                }
                let slot = PrefetchSlot(prefetch)
                let turn = startsAtOnce(delivery.message) ? pool.ticket() : nil
                group.addTask {
                    await self.process(delivery, live, slot: slot, turn: turn)
                    slot.release()
                    // Writes run behind the work; a worker that outpaces Redis waits here.
                    await live.driver.waitIfBacklogged()
                }
            }
        }
    }

    /// Reservation script calls on the consumer connection at once while the queue has a
    /// backlog. With one, Redis ran a batch's script and then idled while the reply travelled
    /// and was parsed before the next call could go out; the reply's round trip, not Redis or the
    /// worker's CPU, set the drain's pace. A second call, sent as soon as enough slots free up,
    /// has Redis run the next script meanwhile. Each holds its own prefetch slots, so the window
    /// is unchanged.
    static let reservationsInFlight = 2

    /// Takes messages as prefetch slots free up, each batch holding one slot per message, and
    /// hands them to ``consume(_:group:)`` in the order they were popped; finishes `taken` when
    /// the worker stops.
    ///
    /// A reservation is sent once a slot is free. While the last batch came back full (a backlog
    /// waits), a second one is sent as soon as a quarter of the window frees up, before the
    /// first's reply is read (``reservationsInFlight``). When a reservation finds nothing and
    /// none is in flight, the worker blocks on one `BRPOP` instead.
    private func reservations(_ live: Live, into taken: AsyncStream<[ReservedMessage]>.Continuation) async {
        defer { taken.finish() }
        var current = queues.withLock { $0 }
        var order = QueueKeys.consumeOrder(queues: current)
        // Blocking pops in a row since the script last found nothing (see `blockingPopStreak`).
        var blockingPops = 0
        var pending = Deque<any BrokerReservation>()
        var lane = 0
        // The last batch filled every slot it asked for, so more is probably waiting.
        var backlog = false
        func send(slots: Int) {
            pending.append(live.driver.reserve(from: order, count: slots, lane: lane))
            lane = (lane + 1) % Self.reservationsInFlight
        }
        // Pending reservations hold messages: their batches are handed on (and put back by the
        // consume loop) even when stopping.
        while !stopping.load(ordering: .relaxed) || !pending.isEmpty {
            let now = queues.withLock { $0 }
            if now != current {
                current = now
                order = QueueKeys.consumeOrder(queues: current)
            }
            if pending.isEmpty {
                if liveness.withLock({ $0.mustFence() }) && !stopping.load(ordering: .relaxed) {
                    // After a lapse of this worker's liveness, peers may have restored what it
                    // held: taking those messages again now would make the stale copies look
                    // held too. Nothing is taken until the held ones were checked (LivenessWindow.fence).
                    try? await Task.sleep(for: .milliseconds(100))
                    continue
                }
                if live.driver.refusesWrites && !stopping.load(ordering: .relaxed) {
                    // Redis refuses writes: take nothing more until it stores what is held.
                    await live.driver.waitUntilWritesAccepted()
                    continue
                }
                do { try await prefetch.acquire() } catch { break }
                if order.isEmpty {
                    prefetch.release()
                    try? await Task.sleep(for: .milliseconds(200))
                    continue
                }
                if blockingPops > 0 && blockingPops < Self.blockingPopStreak && !wakesBeforeTaking(order) {
                    await blockingPop(live, keys: order, streak: &blockingPops, into: taken)
                    continue
                }
                // Every free prefetch slot is filled in one reservation.
                send(slots: 1 + prefetch.tryAcquire(upTo: Self.reservationBatch - 1))
            }
            let oldest = pending.removeFirst()
            let batch: [ReservedMessage]
            if backlog && !order.isEmpty && pending.count + 1 < Self.reservationsInFlight && !stopping.load(ordering: .relaxed) {
                // Whichever comes first: the reply, or enough free slots to send the next call.
                // The window now (`pool_grow`/`pool_shrink` change it), as `inspect stats` reports it.
                let window = settings.prefetchMultiplier * counters.withLock { $0.concurrency }
                batch = await messagesOrSlots(oldest, gather: max(1, min(Self.reservationBatch, window / 4))) { freed in
                    send(slots: freed + prefetch.tryAcquire(upTo: Self.reservationBatch - freed))
                }
            } else {
                batch = await oldest.messages()
            }
            backlog = batch.count == oldest.count
            if batch.isEmpty {
                if pending.isEmpty && !stopping.load(ordering: .relaxed) {
                    // Nothing waiting: block on one BRPOP (a script cannot block) and record it after.
                    prefetch.release(oldest.count - 1)
                    await blockingPop(live, keys: oldest.lists, streak: &blockingPops, into: taken)
                } else {
                    prefetch.release(oldest.count)
                }
                continue
            }
            blockingPops = 0
            if batch.count < oldest.count { prefetch.release(oldest.count - batch.count) }
            if current.count > 1, let last = batch.last { order = rotate(current, after: last.listKey) }
            taken.yield(batch)
        }
    }

    /// Waits for `call`'s batch; if `gather` prefetch slots free up first, calls `whenFreed`
    /// with them (taken, its own to use) at once. Slots still being gathered when the batch
    /// comes go back.
    private func messagesOrSlots(_ call: any BrokerReservation, gather: Int, whenFreed: (Int) -> Void) async -> [ReservedMessage] {
        enum Outcome: Sendable { case reply([ReservedMessage]), slots(Int) }
        return await withTaskGroup(of: Outcome.self) { group in
            group.addTask { .reply(await call.messages()) }
            group.addTask {
                var taken = 0
                while taken < gather && !Task.isCancelled {
                    do { try await self.prefetch.acquire() } catch { break }
                    taken += 1 + self.prefetch.tryAcquire(upTo: gather - taken - 1)
                }
                return .slots(taken)
            }
            var reply: [ReservedMessage]?
            while let outcome = await group.next() {
                switch outcome {
                case .reply(let result):
                    reply = result
                    // Stop gathering; the slots it took so far come back through `.slots`.
                    group.cancelAll()
                case .slots(let freed) where reply == nil && freed > 0:
                    whenFreed(freed)
                case .slots(let freed):
                    prefetch.release(freed)
                }
            }
            return reply!
        }
    }

    /// Whether an idle worker waits for a message without taking it, and then takes it with the
    /// reservation script, instead of taking it by `BRPOP`.
    ///
    /// A message taken by `BRPOP` is off its list before it is recorded as held (kombu has the
    /// same gap): a worker that dies between the two (a task aborting it, the OOM killer) loses
    /// it. With `acks_late` the worker promises the message outlives its death, so on one queue
    /// it waits with `BLMOVE q q RIGHT RIGHT`, which blocks like `BRPOP` but leaves the message
    /// where it is, and the script takes it atomically: one more round trip per message an idle
    /// worker receives.
    ///
    /// Redis has no such wait across several lists, so it waits on the queue's list for
    /// priority 0 (where messages sent without a priority go); the script that follows each
    /// wake-up or poll timeout (`pollTimeout`, 1 s) takes from the priority lists too, so a
    /// message sent with a priority reaches an idle worker within that timeout. A worker
    /// consuming several queues keeps `BRPOP` and its gap rather than delay all but one.
    private func wakesBeforeTaking(_ keys: [String]) -> Bool {
        settings.acksLate && Set(keys.map(QueueKeys.queueName(ofList:))).count == 1
    }

    /// One `BRPOP` holding one prefetch slot (taken by the caller), its message handed on; the
    /// slot goes back when it times out. Counts the streak of blocking pops (`blockingPopStreak`).
    /// A worker that ``wakesBeforeTaking(_:)`` only waits for a message here and gives the slot
    /// back, for the next reservation to take what arrived.
    private func blockingPop(_ live: Live, keys: [String], streak: inout Int, into taken: AsyncStream<[ReservedMessage]>.Continuation) async {
        if wakesBeforeTaking(keys) {
            await live.driver.waitForMessage(on: QueueKeys.queueName(ofList: keys[0]), timeout: settings.pollTimeout)
            prefetch.release()
            streak = 0
            return
        }
        let inStreak = streak > 0 && streak < Self.blockingPopStreak
        guard let message = await live.driver.blockingPop(from: keys, timeout: settings.pollTimeout) else {
            // Timed out: the queue stayed empty, so the streak goes on.
            prefetch.release()
            return
        }
        streak = inStreak ? streak + 1 : 1
        taken.yield([message])
    }

    /// Round-robins the queue order after a delivery, as kombu's cycle does.
    private func rotate(_ queues: [String], after key: String) -> [String] {
        let queue = QueueKeys.queueName(ofList: key)
        guard let i = queues.firstIndex(of: queue) else { return QueueKeys.consumeOrder(queues: queues) }
        return QueueKeys.consumeOrder(queues: Array(queues[(i + 1)...] + queues[...i]))
    }
}
