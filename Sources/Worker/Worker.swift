public import Celeriac
public import Logging
public import ServiceLifecycle
import Foundation
import Synchronization
import DequeModule

/// A headless Celery-compatible worker: consumes queues, runs registered tasks with bounded
/// concurrency and prefetch, stores results, publishes Celery's events and answers remote
/// control, keeping kombu's `unacked` bookkeeping so Python processes sharing the Redis can
/// restore what it holds.
///
/// Run it inside a `ServiceGroup` (``WorkerCommand`` does): a graceful shutdown (SIGTERM, Ctrl-C,
/// or the `shutdown` control command) stops consuming, lets running tasks finish, and puts every
/// message it holds but has not started back on its queue.
public final class Worker: Service, Sendable {
    public let settings: WorkerSettings
    public let tasks: TaskRegistry
    let logger: Logger

    /// Messages held (received, not finished): the prefetch window.
    let prefetch: AsyncSemaphore
    /// Tasks running at once.
    let pool: AsyncSemaphore
    /// Where task bodies run: in this process or in pool children (`--pool`).
    let executor: any TaskExecutor
    let stopping = Atomic<Bool>(false)
    /// Set by a cold shutdown: running tasks are cancelled and their messages go back.
    let cold = Atomic<Bool>(false)
    private let finished = Atomic<Bool>(false)
    private let ready = Atomic<Bool>(false)
    let counters: Mutex<Counters>
    let requests: RequestTracker
    let revoked: RevokedTasks
    let rateLimits = TaskRateLimiter()
    let timeLimits = TaskTimeLimits()
    /// Wakes messages waiting for their ETA: one timer for all of them.
    let etaTimer = EtaTimer()
    /// `worker_eta_task_limit`.
    let etaLimit: EtaTaskLimit
    /// Queues consumed now; `add_consumer`/`cancel_consumer` change it at run time.
    let queues: Mutex<[String]>
    let startedAt = Date()
    /// This run's owner value in `celeriac.unacked_owner` (node name and a fresh incarnation id).
    let owner: String
    let incarnation = UUID().uuidString.lowercased()
    /// Set once `run()` connected; control and events need it.
    let live = Mutex<Live?>(nil)
    /// Shared by every connection of this worker, so an outage is one warning, not one per connection.
    let outageLog: RedisOutageLog
    /// Whether Redis takes this worker's writes; shared by everything that writes.
    let refusals: WriteRefusals
    /// Serializes messages that were running when a worker died (`--pool async`, `acks_late`).
    let quarantine = AsyncLock()
    /// When this worker's liveness key was last set, and how long after a lapse it fences.
    let liveness: Mutex<LivenessFence>

    struct Counters {
        var processed = 0
        var total: [String: Int] = [:]
        var concurrency: Int
    }

    /// Connections and publishers of a running worker.
    struct Live: Sendable {
        let consumer: RedisClient
        let broker: RedisClient
        let backend: RedisResultBackend?
        let events: WorkerEvents
        /// Acks (and results when the backend is the broker), group-committed on the broker connection.
        let writes: WriteBatcher
        /// Results: ``writes`` itself when the backend shares the broker's connection.
        let results: WriteBatcher
    }

    /// Hooks into each task's life and the worker's (``TaskMiddleware``), in order.
    let middleware: [any TaskMiddleware]

    public init(settings: WorkerSettings, tasks: TaskRegistry, logger: Logger, middleware: [any TaskMiddleware] = []) {
        self.settings = settings
        self.tasks = tasks
        self.middleware = middleware
        self.logger = logger
        prefetch = AsyncSemaphore(slots: settings.prefetchLimit)
        pool = AsyncSemaphore(slots: settings.concurrency)
        switch settings.pool {
        case .async: executor = InProcessExecutor()
        case .process: executor = ProcessPool(command: settings.poolChild, processes: settings.concurrency,
                                              maxTasksPerChild: settings.maxTasksPerChild, logger: logger)
        }
        requests = RequestTracker(hostname: settings.nodeName)
        revoked = RevokedTasks(stateFile: settings.stateDB)
        queues = Mutex(settings.queues)
        counters = Mutex(Counters(concurrency: settings.concurrency))
        owner = OrphanRecovery.owner(node: settings.nodeName, incarnation: incarnation)
        outageLog = RedisOutageLog(logger: logger)
        refusals = WriteRefusals(logger: logger)
        etaLimit = EtaTaskLimit(limit: settings.etaTaskLimit)
        liveness = Mutex(LivenessFence(window: settings.liveness))
    }

    /// Whether the worker is consuming and answering control commands.
    public var isReady: Bool { ready.load(ordering: .relaxed) }

    /// Whether ``run()`` has returned.
    public var hasStopped: Bool { finished.load(ordering: .relaxed) }

    /// Tasks finished since start.
    public var processed: Int { counters.withLock { $0.processed } }

    private func options(_ name: String) -> RedisOptions {
        var o = RedisOptions()
        o.name = name
        o.outageLog = outageLog
        return o
    }

    /// Attempts at the first broker connection before the worker gives up, as Celery's
    /// `broker_connection_max_retries` (100).
    static let startupConnectAttempts = 100

    /// The first connection, retried as Celery's `broker_connection_retry_on_startup` does: a
    /// broker that is not up yet (refused, timing out, still loading its data) is tried again
    /// with a growing delay and one log line per attempt, so a worker started before its Redis
    /// (a compose file, a reboot) simply waits for it. A wrong password or URL fails at once.
    /// - Returns: `nil` when the worker was told to stop before Redis answered.
    private func connectAtStartup() async throws -> RedisClient? {
        var backoff = RedisBackoff(.seconds(2)...(.seconds(30)))
        var attempt = 0
        while true {
            let failure: RedisError
            do {
                return try await RedisClient.connect(url: settings.brokerURL, options: options("consumer"), logger: logger)
            } catch {
                failure = error
            }
            attempt += 1
            if stopping.load(ordering: .relaxed) { return nil }
            guard failure.isConnectionProblem || failure.isLoading, attempt < Self.startupConnectAttempts else { throw failure }
            let delay = backoff.next()
            logger.error("consumer: Cannot connect to \(settings.brokerURL): \(failure.message). Trying again in \(delay.components.seconds).00 seconds... (\(attempt)/\(Self.startupConnectAttempts))")
            let until = ContinuousClock.now + delay
            while ContinuousClock.now < until && !stopping.load(ordering: .relaxed) {
                try? await Task.sleep(for: .milliseconds(100))
            }
            if stopping.load(ordering: .relaxed) { return nil }
        }
    }

    /// Runs until a graceful shutdown (SIGTERM, Ctrl-C, the `shutdown` command) has stopped
    /// consuming, finished the running tasks and put the held messages back. A shutdown asked
    /// for while the worker still waits for Redis at start-up ends it there.
    public func run() async throws {
        defer { finished.store(true, ordering: .relaxed) }
        try await withGracefulShutdownHandler {
            try await serve()
        } onGracefulShutdown: {
            self.beginShutdown()
        }
    }

    private func serve() async throws {
        try revoked.load()
        guard let consumer = try await connectAtStartup() else {
            logger.info("\(settings.nodeName) stopped before Redis answered")
            return
        }
        let broker = try await RedisClient.connect(url: settings.brokerURL, options: options("broker"), logger: logger)
        var backend: RedisResultBackend?
        if let url = settings.resultBackendURL {
            let client = url == settings.brokerURL ? broker : try await RedisClient.connect(url: url, options: options("backend"), logger: logger)
            backend = RedisResultBackend(client: client, expires: settings.resultExpires)
        }
        let publisher = try await EventPublisher.connect(url: settings.brokerURL, sender: WorkerEvents.sender(hostname: settings.nodeName), options: options("events"), logger: logger)
        let events = WorkerEvents(publisher: publisher, taskEvents: settings.sendTaskEvents)
        let writes = WriteBatcher(client: broker, logger: logger, refusals: refusals)
        let results = backend.map { $0.client === broker ? writes : WriteBatcher(client: $0.client, logger: logger, refusals: refusals) } ?? writes
        let live = Live(consumer: consumer, broker: broker, backend: backend, events: events, writes: writes, results: results)
        self.live.withLock { $0 = live }
        let control = try await ControlServer.start(worker: self, live: live)
        defer {
            control.close()
            publisher.close()
            consumer.close()
            broker.close()
            backend?.client.close()
        }
        let declarer = RedisBroker(client: broker)
        for queue in settings.queues {
            // A Redis refusing writes at start-up (OOM) is waited for, not a reason to exit.
            await retryingRedis("declare queue \(queue)") { try await declarer.declare(queue: queue) }
        }
        await control.syncRevokedWithPeers()
        _ = await refreshLiveness(live)
        await recoverOrphans(live)
        try executor.start()
        logger.info("\(settings.nodeName) ready: broker \(settings.brokerURL), results \(settings.resultBackendURL.map { "\($0)" } ?? "disabled"), queues \(settings.queues.joined(separator: ",")), concurrency \(settings.concurrency), prefetch \(settings.prefetchLimit), task events \(settings.sendTaskEvents ? "on" : "off"), \(tasks.names.count) tasks")
        await events.worker(.workerOnline, active: 0, processed: processed)
        ready.store(true, ordering: .relaxed)
        for hook in middleware { hook.workerReady(node: settings.nodeName) }

        let redisWatch = Task { await self.stopWaitingForRedis(live) }
        defer { redisWatch.cancel() }
        await withDiscardingTaskGroup { group in
            group.addTask { await self.heartbeats(events) }
            group.addTask { await self.orphanSweeps(live) }
            group.addTask { await self.flushEvents(events) }
            group.addTask { await control.serve() }
            await consume(live, group: &group)
            // Warm shutdown: messages still waiting for a pool slot go back to their queues;
            // running tasks finish before the group returns.
            pool.close()
            await events.worker(.workerOffline, active: requests.activeCount, processed: processed)
            control.close()
        }
        await executor.shutdown()
        await live.results.flushed()
        await live.writes.flushed()
        await events.flush()
        _ = try? await broker.send(RedisCommand("DEL", OrphanRecovery.livenessKey(node: settings.nodeName)))
        try? revoked.save()
        logger.info("\(settings.nodeName) stopped after \(processed) tasks")
        for hook in middleware { hook.workerShutdown(node: settings.nodeName) }
    }

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
    private func consume(_ live: Live, group: inout DiscardingTaskGroup) async {
        let (batches, taken) = AsyncStream.makeStream(of: [MessageReservation.Reserved].self)
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
                    await live.results.waitIfBacklogged()
                    await live.writes.waitIfBacklogged()
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
    private func reservations(_ live: Live, into taken: AsyncStream<[MessageReservation.Reserved]>.Continuation) async {
        defer { taken.finish() }
        var current = queues.withLock { $0 }
        var order = QueueKeys.consumeOrder(queues: current)
        // Blocking pops in a row since the script last found nothing (see `blockingPopStreak`).
        var blockingPops = 0
        var pending = Deque<PendingReservation>()
        var lane = 0
        // The last batch filled every slot it asked for, so more is probably waiting.
        var backlog = false
        func send(slots: Int) {
            pending.append(PendingReservation(client: live.consumer, keys: order, slots: slots, owner: owner, token: UUID().uuidString, lane: lane))
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
                if refusals.isRefusing && !stopping.load(ordering: .relaxed) {
                    // Redis refuses writes: take nothing more until it stores what is held.
                    await refusals.waitUntilAccepted()
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
            let result: Result<RedisReply, RedisError>
            if backlog && !order.isEmpty && pending.count + 1 < Self.reservationsInFlight && !stopping.load(ordering: .relaxed) {
                // Whichever comes first: the reply, or enough free slots to send the next call.
                // The window now (`pool_grow`/`pool_shrink` change it), as `inspect stats` reports it.
                let window = settings.prefetchMultiplier * counters.withLock { $0.concurrency }
                result = await replyOrSlots(oldest, gather: max(1, min(Self.reservationBatch, window / 4))) { freed in
                    send(slots: freed + prefetch.tryAcquire(upTo: Self.reservationBatch - freed))
                }
            } else {
                result = await oldest.reply()
            }
            let batch = await reserved(oldest, result, live)
            backlog = batch.count == oldest.slots
            if batch.isEmpty {
                if pending.isEmpty && !stopping.load(ordering: .relaxed) {
                    // Nothing waiting: block on one BRPOP (a script cannot block) and record it after.
                    prefetch.release(oldest.slots - 1)
                    await blockingPop(live, keys: oldest.keys, streak: &blockingPops, into: taken)
                } else {
                    prefetch.release(oldest.slots)
                }
                continue
            }
            blockingPops = 0
            if batch.count < oldest.slots { prefetch.release(oldest.slots - batch.count) }
            if current.count > 1, let last = batch.last { order = rotate(current, after: last.listKey) }
            taken.yield(batch)
        }
    }

    /// Waits for `call`'s reply; if `gather` prefetch slots free up first, calls `whenFreed`
    /// with them (taken, its own to use) at once. Slots still being gathered when the reply comes
    /// go back.
    private func replyOrSlots(_ call: PendingReservation, gather: Int, whenFreed: (Int) -> Void) async -> Result<RedisReply, RedisError> {
        enum Outcome: Sendable { case reply(Result<RedisReply, RedisError>), slots(Int) }
        return await withTaskGroup(of: Outcome.self) { group in
            group.addTask { .reply(await call.reply()) }
            group.addTask {
                var taken = 0
                while taken < gather && !Task.isCancelled {
                    do { try await self.prefetch.acquire() } catch { break }
                    taken += 1 + self.prefetch.tryAcquire(upTo: gather - taken - 1)
                }
                return .slots(taken)
            }
            var reply: Result<RedisReply, RedisError>?
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
    private func blockingPop(_ live: Live, keys: [String], streak: inout Int, into taken: AsyncStream<[MessageReservation.Reserved]>.Continuation) async {
        if wakesBeforeTaking(keys) {
            await waitForMessage(live, key: QueueKeys.queueName(ofList: keys[0]))
            prefetch.release()
            streak = 0
            return
        }
        let inStreak = streak > 0 && streak < Self.blockingPopStreak
        guard let (key, raw) = await pop(live, keys: keys) else {
            // Timed out: the queue stayed empty, so the streak goes on.
            prefetch.release()
            return
        }
        streak = inStreak ? streak + 1 : 1
        taken.yield([MessageReservation.Reserved(listKey: key, raw: raw, recordedTag: nil)])
    }

    /// The batch of a sent reservation (empty when nothing waited). A reply lost to an outage
    /// is asked for again with the same token and lane until Redis answers (the call may have
    /// taken a batch), unless the worker is stopping: then the batch stays held by this worker,
    /// its liveness key goes at exit, and a live worker's orphan sweep restores it.
    private func reserved(_ call: PendingReservation, _ first: Result<RedisReply, RedisError>, _ live: Live) async -> [MessageReservation.Reserved] {
        var result = first
        var backoff = Self.redisRetryBackoff
        while true {
            switch result {
            case .success(let reply):
                return MessageReservation.parse(reply)
            case .failure(let error) where error.isConnectionProblem && !stopping.load(ordering: .relaxed):
                try? await Task.sleep(for: backoff.next())
                do { result = .success(try await live.consumer.send(call.command())) } catch { result = .failure(error) }
            case .failure(let error) where error.isWriteRefused:
                // The script writes nothing when refused (READONLY, MISCONF): the loop waits.
                refusals.refused(error.message)
                return []
            case .failure(let error):
                if !error.isConnectionProblem { logger.error("reserving messages failed: \(error)") }
                return []
            }
        }
    }

    /// Stops taking messages; called on SIGTERM/SIGINT through the service group, or by the
    /// `shutdown` control command.
    public func beginShutdown() {
        guard !stopping.exchange(true, ordering: .relaxed) else { return }
        logger.info("warm shutdown: finishing running tasks, returning held messages to their queues")
        prefetch.close()
        // Messages waiting for a pool slot go back now, not when a running task frees one.
        pool.close()
        // A reservation loop waiting for Redis to take writes again stops waiting.
        refusals.release()
        // So do messages waiting for their ETA.
        etaTimer.close()
    }

    /// Grows (positive) or shrinks (negative) the pool and the prefetch window with it
    /// (`pool_grow`/`pool_shrink`); never below one slot.
    func resizePool(by delta: Int) {
        let applied = counters.withLock { c -> Int in
            let target = max(1, c.concurrency + delta)
            defer { c.concurrency = target }
            return target - c.concurrency
        }
        guard applied != 0 else { return }
        pool.adjust(by: applied)
        executor.resize(to: counters.withLock { $0.concurrency })
        prefetch.adjust(by: applied * settings.prefetchMultiplier)
        logger.info("pool \(applied > 0 ? "grew" : "shrank") to \(counters.withLock { $0.concurrency })")
    }

    /// How long a stopping worker waits for an unreachable Redis once its last task body ended,
    /// to put its held messages back and write its last results and acks, before it stops
    /// without them. A warm shutdown waits for running tasks, never for Redis forever.
    public static let shutdownRedisWait: Duration = .seconds(10)

    /// Bounds a shutdown's wait for Redis: once the worker is stopping and no task body runs
    /// (a cold shutdown stops them), it gives Redis ``shutdownRedisWait``, then closes its
    /// connections. Every wait on Redis then fails at once: writes still queued are dropped
    /// with one line saying how many, and the messages it could not put back stay recorded in
    /// kombu's `unacked` under its name, where a peer's orphan sweep (or kombu's visibility
    /// timeout) restores them. A shutdown that finishes first cancels this.
    private func stopWaitingForRedis(_ live: Live) async {
        while !(stopping.load(ordering: .relaxed) && requests.activeCount == 0) {
            guard (try? await Task.sleep(for: .milliseconds(100))) != nil else { return }
        }
        let deadline = ContinuousClock.now + Self.shutdownRedisWait
        while ContinuousClock.now < deadline {
            guard (try? await Task.sleep(for: .milliseconds(100))) != nil else { return }
        }
        let unsent = live.writes.queuedCount + (live.results === live.writes ? 0 : live.results.queuedCount)
        logger.error("shutdown: Redis did not take this worker's last writes (\(unsent) queued) within \(Self.shutdownRedisWait.components.seconds) s; stopping without them. Messages not put back stay recorded in unacked for another worker to restore")
        live.consumer.close()
        live.broker.close()
        live.backend?.client.close()
        refusals.release()
    }

    /// Cold shutdown (a second Ctrl-C): stop now. Running tasks are cancelled and their messages
    /// put back on their queues, as are the ones still waiting.
    public func coldShutdown() {
        beginShutdown()
        guard !cold.exchange(true, ordering: .relaxed) else { return }
        let n = requests.cancelAll()
        logger.warning("cold shutdown: stopping \(n) running task(s) and returning their messages to their queues")
    }

    private func heartbeats(_ events: WorkerEvents) async {
        var next = ContinuousClock.now + .seconds(WorkerEvents.heartbeatInterval)
        while !stopping.load(ordering: .relaxed) {
            // Short naps so a shutdown is not held up by a sleeping heartbeat.
            try? await Task.sleep(for: .milliseconds(100))
            guard ContinuousClock.now >= next, !stopping.load(ordering: .relaxed) else { continue }
            next = ContinuousClock.now + .seconds(WorkerEvents.heartbeatInterval)
            await events.worker(.workerHeartbeat, active: requests.activeCount, processed: processed)
        }
    }

    /// Keeps this worker's liveness key fresh and restores messages of workers that died.
    private func orphanSweeps(_ live: Live) async {
        var next = ContinuousClock.now
        var gate = OrphanSweepGate(window: settings.liveness)
        while !stopping.load(ordering: .relaxed) {
            try? await Task.sleep(for: .milliseconds(100))
            guard ContinuousClock.now >= next, !stopping.load(ordering: .relaxed) else { continue }
            next = ContinuousClock.now + settings.liveness.refreshInterval
            let began = ContinuousClock.now
            let refreshed = await refreshLiveness(live)
            gate.refreshed(succeeded: refreshed, took: ContinuousClock.now - began)
            if gate.maySweep() { await recoverOrphans(live) }
        }
    }

    /// Sets this worker's liveness key; whether Redis took it. The write also tells an open
    /// ``WriteRefusals`` episode whether Redis takes writes again, when nothing else is writing.
    private func refreshLiveness(_ live: Live) async -> Bool {
        let sent = ContinuousClock.now
        defer { liveness.withLock { $0.ended(now: .now) } }
        if let lapse = liveness.withLock({ $0.attempting(now: sent) }) {
            // After an outage (already logged) peers cannot have swept: only a stall is news.
            let line: Logger.Message = "liveness lapsed: last refreshed \(String(format: "%.1f", lapse.since.seconds)) s ago; peers may have restored the messages this worker holds, so each is checked before it starts"
            if lapse.stalled { logger.warning("\(line) (the process was stalled)") } else { logger.info(line) }
        }
        do {
            let reply = try await live.broker.send(OrphanRecovery.refreshCommand(node: settings.nodeName, incarnation: incarnation, window: settings.liveness))
            if case .error(let message) = reply {
                if RedisError.isWriteRefusalReply(message) { refusals.refused(message) }
                return false
            }
            liveness.withLock { $0.refreshed(sentAt: sent) }
            refusals.accepted()
            return true
        } catch {
            if error.isWriteRefused { refusals.refused(error.message) }
            return false
        }
    }

    private func recoverOrphans(_ live: Live) async {
        do {
            let policy = OrphanRecovery.PoisonPolicy(redeliveries: settings.workerLostRedeliveries, deadLetterKey: settings.deadLetterKey,
                                                     node: settings.nodeName)
            let sweep = try await OrphanRecovery.sweep(client: live.broker, selfOwner: owner, policy: policy)
            if sweep.restored > 0 { logger.warning("restored \(sweep.restored) message(s) held by a worker that stopped without acking them") }
            for message in sweep.deadLettered { await workersLost(running: message, live) }
        } catch let error as RedisError where error.isConnectionProblem {
            // The client logs outages; the next sweep tries again.
        } catch {
            logger.error("orphan sweep failed: \(error)")
        }
    }

    private func flushEvents(_ events: WorkerEvents) async {
        while !stopping.load(ordering: .relaxed) || requests.activeCount > 0 {
            try? await Task.sleep(for: .milliseconds(5))
            await events.flush()
        }
    }

    /// One BRPOP across the consumed lists; `nil` on timeout or a Redis error (already logged by the client).
    private func pop(_ live: Live, keys: [String]) async -> (String, [UInt8])? {
        do {
            let reply = try await live.consumer.send(RedisCommand("BRPOP", arguments: keys + [settings.pollTimeout]))
            guard let pair = reply.array, pair.count == 2, let key = pair[0].string, let raw = pair[1].bytes else { return nil }
            return (key, raw)
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

    /// Blocks until `key` has a message or the poll timeout passes, leaving the list as it was:
    /// `BLMOVE` from a list to its own tail moves the last message back where it was.
    private func waitForMessage(_ live: Live, key: String) async {
        do {
            _ = try await live.consumer.send(RedisCommand("BLMOVE", key, key, "RIGHT", "RIGHT", settings.pollTimeout))
        } catch {
            if !error.isConnectionProblem { logger.error("BLMOVE failed: \(error)") }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    /// Round-robins the queue order after a delivery, as kombu's cycle does.
    private func rotate(_ queues: [String], after key: String) -> [String] {
        let queue = QueueKeys.queueName(ofList: key)
        guard let i = queues.firstIndex(of: queue) else { return QueueKeys.consumeOrder(queues: queues) }
        return QueueKeys.consumeOrder(queues: Array(queues[(i + 1)...] + queues[...i]))
    }

    /// How long a step that must not be lost waits between tries while Redis is unreachable.
    static let redisRetryBackoff = RedisBackoff(.milliseconds(50)...(.seconds(2)))

    /// Runs a Redis step until it succeeds: during an outage the client already logged one line
    /// and is reconnecting, and giving up here would lose a result or leave a message dangling.
    func retryingRedis(_ what: String, _ body: () async throws -> Void) async {
        var backoff = Self.redisRetryBackoff
        while true {
            do {
                try await body()
                return
            } catch let error as RedisError where error.isConnectionProblem || error.isWriteRefused {
                // The client logged the outage; a refusal opens (or continues) its episode. The
                // step is retried either way, unless the worker gave up on Redis at shutdown.
                if error.isWriteRefused { refusals.refused(error.message) }
                try? await Task.sleep(for: backoff.next())
            } catch {
                logger.error("could not \(what): \(error)")
                return
            }
        }
    }
}
