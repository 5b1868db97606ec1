public import Celeriac
public import Logging
public import ServiceLifecycle
import Foundation
import Synchronization

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
    /// `reply_to` of the signatures this worker freezes (callbacks, errbacks): Celery's
    /// `app.thread_oid`, one per worker process.
    let replyTo = RandomUUID.string()
    let logger: Logger

    /// Messages held (received, not finished): the prefetch window.
    let prefetch: AsyncSemaphore
    /// Tasks running at once.
    let pool: AsyncSemaphore
    /// Where task bodies run: in this process or in pool children (`--pool`).
    let executor: any TaskExecutor
    let stopping = Atomic<Bool>(false)
    /// Given with ``stopping`` by ``beginShutdown()``: what the periodic jobs sleep on, so they
    /// end at once when the worker stops instead of polling ``stopping``.
    let shutdown = ShutdownSignal()
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
    let queues: ConsumedQueues
    let startedAt = Date()
    /// Names this run: what it holds is recorded under node name and incarnation (``BrokerHolder``).
    let incarnation = UUID().uuidString.lowercased()
    /// Set once `run()` connected; control and events need it.
    let live = Mutex<Live?>(nil)
    /// Shared by every connection of this worker, so an outage is one warning, not one per connection.
    let outageLog: RedisOutageLog
    /// Serializes messages that were running when a worker died (`--pool async`, `acks_late`).
    let quarantine = AsyncLock()
    /// When this worker's liveness key was last set, and how long after a lapse it fences.
    let liveness: Mutex<LivenessFence>

    struct Counters {
        var processed = 0
        var total: [String: Int] = [:]
        var concurrency: Int
    }

    /// What a running worker takes messages from and reports to.
    struct Live: Sendable {
        /// The broker and result store (``BrokerDriver``): Redis unless a driver was given.
        let driver: any BrokerDriver
        let events: WorkerEvents
    }

    /// Hooks into each task's life and the worker's (``TaskMiddleware``), in order.
    let middleware: [any TaskMiddleware]
    /// Makes the broker driver when it is not Redis from ``settings`` (see the initializer).
    private let makeDriver: (@Sendable (BrokerHolder) -> any BrokerDriver)?

    /// A worker on the Redis broker (and result backend) its settings name, with Celery's
    /// events and remote control.
    public convenience init(settings: WorkerSettings, tasks: TaskRegistry, logger: Logger, middleware: [any TaskMiddleware] = []) {
        self.init(settings: settings, tasks: tasks, logger: logger, middleware: middleware, makeDriver: nil)
    }

    /// A worker on another transport: `driver` makes its ``BrokerDriver`` for the holder it is
    /// given (this run of this worker). Celery's event stream and remote control are Redis
    /// pub/sub, so such a worker sends no events and answers no control commands; the settings'
    /// broker and backend URLs are not used.
    public convenience init(settings: WorkerSettings, tasks: TaskRegistry, logger: Logger, middleware: [any TaskMiddleware] = [],
                            driver: @escaping @Sendable (BrokerHolder) -> any BrokerDriver) {
        self.init(settings: settings, tasks: tasks, logger: logger, middleware: middleware, makeDriver: driver)
    }

    private init(settings: WorkerSettings, tasks: TaskRegistry, logger: Logger, middleware: [any TaskMiddleware],
                 makeDriver: (@Sendable (BrokerHolder) -> any BrokerDriver)?) {
        self.makeDriver = makeDriver
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
        queues = ConsumedQueues(settings.queues)
        counters = Mutex(Counters(concurrency: settings.concurrency))
        outageLog = RedisOutageLog(logger: logger)
        etaLimit = EtaTaskLimit(limit: settings.etaTaskLimit)
        liveness = Mutex(LivenessFence(window: settings.liveness))
    }

    /// Whether the worker is consuming and answering control commands.
    public var isReady: Bool { ready.load(ordering: .relaxed) }

    /// Whether ``run()`` has returned.
    public var hasStopped: Bool { finished.load(ordering: .relaxed) }

    /// Tasks finished since start.
    public var processed: Int { counters.withLock { $0.processed } }

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

    /// Who holds what this run takes: fenced while its liveness may have lapsed.
    var holder: BrokerHolder {
        BrokerHolder(node: settings.nodeName, incarnation: incarnation) { [weak self] in
            self?.liveness.withLock { $0.mustFence() } ?? false
        }
    }

    private func serve() async throws {
        try revoked.load()
        let session: Session
        if let makeDriver {
            session = Session(live: Live(driver: makeDriver(holder), events: WorkerEvents(publisher: nil, sender: WorkerEvents.sender(hostname: settings.nodeName), taskEvents: false)))
            self.live.withLock { $0 = session.live }
        } else {
            guard let redis = try await connectToRedis() else {
                logger.info("\(settings.nodeName) stopped before Redis answered")
                return
            }
            session = redis
        }
        defer { session.close() }
        let live = session.live
        let control = session.control
        // A shutdown asked for while connecting reaches the driver too.
        if stopping.load(ordering: .relaxed) { live.driver.stopping() }
        for queue in settings.queues { await live.driver.declare(queue: queue) }
        await control?.syncRevokedWithPeers()
        _ = await refreshLiveness(live)
        await recoverOrphans(live)
        try executor.start()
        logger.info("\(settings.nodeName) ready: broker \(makeDriver == nil ? "\(settings.brokerURL)" : "\(type(of: live.driver))"), results \(makeDriver == nil ? settings.resultBackendURL.map { "\($0)" } ?? "disabled" : live.driver.storesResults ? "stored by the driver" : "disabled"), queues \(settings.queues.joined(separator: ",")), concurrency \(settings.concurrency), prefetch \(settings.prefetchLimit), task events \(live.events.taskEventsEnabled ? "on" : "off"), \(tasks.names.count) tasks")
        await live.events.worker(.workerOnline, active: 0, processed: processed)
        ready.store(true, ordering: .relaxed)
        for hook in middleware { hook.workerReady(node: settings.nodeName) }

        let redisWatch = Task { await self.stopWaitingForRedis(live) }
        defer { redisWatch.cancel() }
        // Task events are flushed until the last task has ended, so it runs beside the group.
        let flusher = Task { await live.events.flushContinuously() }
        defer { flusher.cancel() }
        await withDiscardingTaskGroup { group in
            group.addTask { await self.heartbeats(live.events) }
            group.addTask { await self.orphanSweeps(live) }
            if let control { group.addTask { await control.serve() } }
            await consume(live, group: &group)
            // Warm shutdown: messages still waiting for a pool slot go back to their queues;
            // running tasks finish before the group returns.
            pool.close()
            await live.events.worker(.workerOffline, active: requests.activeCount, processed: processed)
            control?.close()
        }
        live.events.stopFlushing()
        await flusher.value
        await executor.shutdown()
        await live.driver.flushed()
        await live.events.flush()
        await live.driver.forgetLiveness()
        try? revoked.save()
        logger.info("\(settings.nodeName) stopped after \(processed) tasks")
        for hook in middleware { hook.workerShutdown(node: settings.nodeName) }
    }

    /// Stops taking messages; called on SIGTERM/SIGINT through the service group, or by the
    /// `shutdown` control command.
    public func beginShutdown() {
        guard !stopping.exchange(true, ordering: .relaxed) else { return }
        shutdown.signal()
        logger.info("warm shutdown: finishing running tasks, returning held messages to their queues")
        prefetch.close()
        // Messages waiting for a pool slot go back now, not when a running task frees one.
        pool.close()
        // A reservation loop waiting for Redis to take writes again stops waiting, and so does
        // one repeating a reservation whose reply an outage lost.
        live.withLock { $0 }?.driver.stopping()
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
        // Each wait also ends when the task is cancelled (the shutdown finished first).
        await shutdown.wait()
        await requests.waitUntilNoneActive()
        guard (try? await Task.sleep(for: Self.shutdownRedisWait)) != nil else { return }
        logger.error("shutdown: Redis did not take this worker's last writes (\(live.driver.queuedWrites) queued) within \(Self.shutdownRedisWait.components.seconds) s; stopping without them. Messages not put back stay recorded in unacked for another worker to restore")
        live.driver.close()
    }

    /// Cold shutdown (a second Ctrl-C): stop now. Running tasks are cancelled and their messages
    /// put back on their queues, as are the ones still waiting.
    public func coldShutdown() {
        beginShutdown()
        guard !cold.exchange(true, ordering: .relaxed) else { return }
        // Logged before the cancelling: a process whose last task ended may exit before a line
        // written after it (a loaded machine showed the line missing).
        requests.cancelAll { n in
            logger.warning("cold shutdown: stopping \(n) running task(s) and returning their messages to their queues")
        }
    }

    /// Sends `worker-heartbeat` every ``WorkerEvents/heartbeatInterval`` until the worker stops
    /// (the sleep ends at once then).
    private func heartbeats(_ events: WorkerEvents) async {
        var next = ContinuousClock.now + .seconds(WorkerEvents.heartbeatInterval)
        while await shutdown.sleep(until: next) {
            next = ContinuousClock.now + .seconds(WorkerEvents.heartbeatInterval)
            await events.worker(.workerHeartbeat, active: requests.activeCount, processed: processed)
        }
    }

    /// Keeps this worker's liveness key fresh and restores messages of workers that died, every
    /// `liveness.refreshInterval` (the first at once), until the worker stops.
    private func orphanSweeps(_ live: Live) async {
        var next = ContinuousClock.now
        var gate = OrphanSweepGate(window: settings.liveness)
        while await shutdown.sleep(until: next) {
            next = ContinuousClock.now + settings.liveness.refreshInterval
            let began = ContinuousClock.now
            let refreshed = await refreshLiveness(live)
            gate.refreshed(succeeded: refreshed, took: ContinuousClock.now - began)
            if gate.maySweep() { await recoverOrphans(live) }
        }
    }

    /// Sets this worker's liveness key; whether Redis took it, and when.
    private func refreshLiveness(_ live: Live) async -> Bool {
        let sent = ContinuousClock.now
        defer { liveness.withLock { $0.ended(now: .now) } }
        if let lapse = liveness.withLock({ $0.attempting(now: sent) }) {
            // After an outage (already logged) peers cannot have swept: only a stall is news.
            let line: Logger.Message = "liveness lapsed: last refreshed \(String(format: "%.1f", lapse.since.seconds)) s ago; peers may have restored the messages this worker holds, so each is checked before it starts"
            if lapse.stalled { logger.warning("\(line) (the process was stalled)") } else { logger.info(line) }
        }
        guard await live.driver.refreshLiveness(window: settings.liveness) else { return false }
        liveness.withLock { $0.refreshed(sentAt: sent) }
        return true
    }

    private func recoverOrphans(_ live: Live) async {
        let policy = OrphanPoisonPolicy(redeliveries: settings.workerLostRedeliveries, deadLetterKey: settings.deadLetterKey, node: settings.nodeName)
        let sweep = await live.driver.sweepOrphans(policy: policy)
        if sweep.restored > 0 { logger.warning("restored \(sweep.restored) message(s) held by a worker that stopped without acking them") }
        for message in sweep.deadLettered { await workersLost(running: message, live) }
    }
}
