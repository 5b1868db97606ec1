import Celeriac
import DequeModule

/// Takes messages as prefetch slots free up, each batch holding one slot per message, and hands
/// them on in the order they were taken; its decisions are ``ReservationWindow``'s.
///
/// A reservation (``BrokerDriver/reserve(from:count:lane:)``) is sent once a slot is free and
/// asks for every free slot. While the last batch came back full (a backlog waits), a second one
/// is sent as soon as a quarter of the window frees up, before the first's batch is read. When a
/// reservation finds nothing and none is in flight, the loop blocks on one message instead.
///
/// It takes nothing while the worker's liveness may have lapsed (the fence: peers may have
/// restored what it held, and taking those messages again would make the stale copies look
/// held too), while the store refuses writes, or while no queue is consumed; each of those is a
/// wait for its end, not a poll.
struct ReservationLoop: Sendable {
    let driver: any BrokerDriver
    /// The prefetch window's slots.
    let prefetch: AsyncSemaphore
    let queues: ConsumedQueues
    /// Signalled when the worker stops: waits end, and the loop ends once nothing is in flight.
    let shutdown: ShutdownSignal
    /// When the liveness fence ends, while the worker is fenced (``LivenessFence``).
    let fencedUntil: @Sendable () -> ContinuousClock.Instant?
    /// The prefetch window now (`pool_grow`/`pool_shrink` change it).
    let window: @Sendable () -> Int
    /// The worker's default `acks_late` (see ``waitsBeforeTaking(_:)``).
    let acksLate: Bool
    /// Seconds a blocking pop waits before it looks again (`broker_transport_options`' polling).
    let pollTimeout: Int

    private var stopping: Bool { shutdown.isSignalled }

    /// Runs until the worker stops; finishes `taken` then.
    func run(into taken: AsyncStream<[ReservedMessage]>.Continuation) async {
        defer { taken.finish() }
        var state = ReservationWindow()
        var current = queues.current
        var order = QueueKeys.consumeOrder(queues: current)
        var pending = Deque<any BrokerReservation>()
        func send(slots: Int) {
            pending.append(driver.reserve(from: order, count: slots, lane: state.nextLane()))
        }
        // Pending reservations hold messages: their batches are handed on (and put back by the
        // consumer) even when stopping.
        while !stopping || !pending.isEmpty {
            let now = queues.current
            if now != current {
                current = now
                order = QueueKeys.consumeOrder(queues: current)
            }
            if pending.isEmpty {
                guard await mayTake(order) else { continue }
                do { try await prefetch.acquire() } catch { break }
                if state.prefersBlockingPop(waitsBeforeTaking: waitsBeforeTaking(order)) {
                    await blockingPop(order, &state, into: taken)
                    continue
                }
                // Every free prefetch slot is filled in one reservation.
                send(slots: 1 + prefetch.tryAcquire(upTo: ReservationWindow.batchLimit - 1))
            }
            let oldest = pending.removeFirst()
            let batch: [ReservedMessage]
            if !order.isEmpty, let gather = state.overlap(othersInFlight: pending.count, window: window(), stopping: stopping) {
                // Whichever comes first: the batch, or enough free slots to send the next call.
                batch = await messagesOrSlots(oldest, gather: gather) { freed in
                    send(slots: freed + prefetch.tryAcquire(upTo: ReservationWindow.batchLimit - freed))
                }
            } else {
                batch = await oldest.messages()
            }
            switch state.received(batch.count, asked: oldest.count, othersInFlight: pending.count, stopping: stopping) {
            case .handOn(let release):
                if release > 0 { prefetch.release(release) }
                if current.count > 1, let last = batch.last { order = Self.rotate(current, after: last.listKey) }
                taken.yield(batch)
            case .blockOnOne(let release):
                // Nothing waiting: block on one message (a script cannot block), recorded after.
                prefetch.release(release)
                await blockingPop(oldest.lists, &state, into: taken)
            case .releaseAll(let count):
                prefetch.release(count)
            }
        }
    }

    /// Waits while nothing may be taken: fenced, writes refused, or no queue consumed. Whether
    /// the loop may take now (`false`: look again, something changed or the worker stops).
    private func mayTake(_ order: [String]) async -> Bool {
        guard !stopping else { return true }
        if let end = fencedUntil() {
            // Nothing is taken until the held messages were checked (LivenessWindow.fence);
            // the fence is asked again at its end, as a longer lapse extends it.
            _ = await shutdown.sleep(until: end)
            return false
        }
        if driver.refusesWrites {
            // The store refuses writes: take nothing more until it stores what is held.
            await driver.waitUntilWritesAccepted()
            return false
        }
        if order.isEmpty {
            // Every queue was cancelled (`cancel_consumer`): wait for `add_consumer`.
            await shutdown.whileRunning { await queues.waitUntilAny() }
            return false
        }
        return true
    }

    /// Waits for `call`'s batch; if `gather` prefetch slots free up first, calls `whenFreed`
    /// with them (taken, its own to use) at once. Slots still being gathered when the batch
    /// comes go back.
    private func messagesOrSlots(_ call: any BrokerReservation, gather: Int, whenFreed: (Int) -> Void) async -> [ReservedMessage] {
        enum Outcome: Sendable { case batch([ReservedMessage]), slots(Int) }
        let prefetch = prefetch
        return await withTaskGroup(of: Outcome.self) { group in
            group.addTask { .batch(await call.messages()) }
            group.addTask {
                var taken = 0
                while taken < gather && !Task.isCancelled {
                    do { try await prefetch.acquire() } catch { break }
                    taken += 1 + prefetch.tryAcquire(upTo: gather - taken - 1)
                }
                return .slots(taken)
            }
            var batch: [ReservedMessage]?
            while let outcome = await group.next() {
                switch outcome {
                case .batch(let messages):
                    batch = messages
                    // Stop gathering; the slots it took so far come back through `.slots`.
                    group.cancelAll()
                case .slots(let freed) where batch == nil && freed > 0:
                    whenFreed(freed)
                case .slots(let freed):
                    prefetch.release(freed)
                }
            }
            return batch!
        }
    }

    /// Whether an idle worker waits for a message without taking it, and then takes it with a
    /// reservation, instead of taking it by a blocking pop.
    ///
    /// A message taken by a blocking pop is off its list before it is recorded as held (kombu
    /// has the same gap): a worker that dies between the two (a task aborting it, the OOM
    /// killer) loses it. With `acks_late` the worker promises the message outlives its death,
    /// so on one queue it waits with ``BrokerDriver/waitForMessage(on:timeout:)`` (on Redis
    /// `BLMOVE q q RIGHT RIGHT`, which blocks like `BRPOP` but leaves the message where it is),
    /// and the reservation takes it atomically: one more round trip per message an idle worker
    /// receives.
    ///
    /// Redis has no such wait across several lists, so it waits on the queue's list for
    /// priority 0 (where messages sent without a priority go); the reservation that follows each
    /// wake-up or poll timeout (`pollTimeout`, 1 s) takes from the priority lists too, so a
    /// message sent with a priority reaches an idle worker within that timeout. A worker
    /// consuming several queues keeps the blocking pop and its gap rather than delay all but one.
    private func waitsBeforeTaking(_ lists: [String]) -> Bool {
        acksLate && Set(lists.map(QueueKeys.queueName(ofList:))).count == 1
    }

    /// One blocking pop holding one prefetch slot (taken by the caller), its message handed on;
    /// the slot goes back when it times out. A worker that ``waitsBeforeTaking(_:)`` only waits
    /// for a message here and gives the slot back, for the next reservation to take what came.
    private func blockingPop(_ lists: [String], _ state: inout ReservationWindow, into taken: AsyncStream<[ReservedMessage]>.Continuation) async {
        if waitsBeforeTaking(lists) {
            await driver.waitForMessage(on: QueueKeys.queueName(ofList: lists[0]), timeout: pollTimeout)
            prefetch.release()
            state.waitedWithoutTaking()
            return
        }
        let message = await driver.blockingPop(from: lists, timeout: pollTimeout)
        state.blockingPopEnded(gotOne: message != nil)
        guard let message else {
            prefetch.release()
            return
        }
        taken.yield([message])
    }

    /// Round-robins the queue order after a delivery, as kombu's cycle does.
    static func rotate(_ queues: [String], after key: String) -> [String] {
        let queue = QueueKeys.queueName(ofList: key)
        guard let i = queues.firstIndex(of: queue) else { return QueueKeys.consumeOrder(queues: queues) }
        return QueueKeys.consumeOrder(queues: Array(queues[(i + 1)...] + queues[...i]))
    }
}
