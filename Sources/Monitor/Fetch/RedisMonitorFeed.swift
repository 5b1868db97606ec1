public import Celeriac
import Foundation
public import Logging
import Synchronization

/// The live feed of a cluster on one Redis: events, queue depths and worker stats, buffered
/// for the monitor loop to ``drain()``.
///
/// Three tasks run until ``close()``:
/// - the event task reads ``Celeriac/EventReceiver`` and buffers each event with the wall-clock
///   time it arrived (bursts, such as a worker's `task.multi` batch, become one
///   ``MonitorInput/events(_:receivedAt:)``);
/// - the queue task polls every queue's depth once a second in one pipelined round trip
///   (``QueueProbe``) and rediscovers the queue names every ``discoveryInterval``;
/// - the stats task asks every worker for `inspect stats` at start and every ``statsInterval``.
///
/// At start it broadcasts `heartbeat`, so every worker announces itself within milliseconds
/// (as Flower does), and with `enableEvents` also `enable_events`, so workers started without
/// `-E` send task events. Redis outages produce one ``MonitorInput/notice(_:)`` when polling
/// starts failing and one when it recovers; the clients reconnect by themselves.
///
/// A monitor that listens for a while and stops (`qmon snapshot`, `qmon status`) ends with
/// ``finishEvents(fallback:)``, so every event published before it stops is in the buffer.
public final class RedisMonitorFeed: MonitorFeed {
    /// How often queue names are rediscovered.
    public static let discoveryInterval: Duration = .seconds(10)
    /// How often worker stats are asked for.
    public static let statsInterval: Duration = .seconds(10)
    /// How often queue depths are polled.
    public static let queueInterval: Duration = .seconds(1)
    /// How long ``finishEvents(fallback:)`` waits for its sync marker by default: 10 seconds,
    /// far beyond a round trip plus decoding a backlog, short enough for a script when Redis
    /// went away.
    public static let syncFallback: Duration = .seconds(10)

    /// The remote-control client the feed uses for `heartbeat` and `inspect stats`; share it
    /// for actions (``RedisActionPerformer``) rather than opening a second one.
    public let control: ControlClient
    /// The broker connection used for polling and backfill.
    public let redis: RedisClient

    private let receiver: EventReceiver
    private let defaultQueue: String
    private let buffer: MonitorInputBuffer
    private let logger: Logger
    private let tasks = Mutex<[Task<Void, Never>]>([])
    /// The task that moves events from the receiver into the buffer (also in `tasks`).
    private let eventTask = Mutex<Task<Void, Never>?>(nil)

    private init(
        receiver: EventReceiver, control: ControlClient, redis: RedisClient, defaultQueue: String,
        buffer: MonitorInputBuffer, logger: Logger
    ) {
        self.receiver = receiver
        self.control = control
        self.redis = redis
        self.defaultQueue = defaultQueue
        self.buffer = buffer
        self.logger = logger
    }

    /// Connects to the broker of `config` and starts feeding.
    ///
    /// The first connection is made before anything else and fails fast, so a Redis that is
    /// down or a wrong password is reported at once.
    ///
    /// - Parameters:
    ///   - config: Resolved settings; ``Celeriac/CeleriacConfig/brokerURL`` and
    ///     ``Celeriac/CeleriacConfig/taskDefaultQueue`` are used.
    ///   - options: Connection options (connect timeout, backoff).
    ///   - logger: Receives the clients' outage lines.
    ///   - enableEvents: Also broadcast `enable_events` at start.
    ///   - bufferCapacity: Events buffered at most between two drains.
    ///   - bufferBytes: Bytes of events buffered at most between two drains
    ///     (``MonitorInputBuffer/approximateBytes(of:)``); the oldest are dropped beyond either bound.
    /// - Throws: ``Celeriac/RedisError`` when the URL is invalid or the first connect fails.
    public static func connect(
        config: CeleriacConfig, options: RedisOptions = .init(), logger: Logger, enableEvents: Bool,
        bufferCapacity: Int = 200_000, bufferBytes: Int = MonitorInputBuffer.defaultByteCapacity
    ) async throws(RedisError) -> RedisMonitorFeed {
        let url = try RedisURL(parsing: config.brokerURL)
        var pollOptions = options
        pollOptions.name = "qmon"
        // Polls should fail (and show a notice) during an outage rather than queue up.
        pollOptions.maxOutageWait = .seconds(2)
        pollOptions.readTimeout = .seconds(10)
        let redis = try await RedisClient.connect(url: url, options: pollOptions, logger: logger)
        let receiver: EventReceiver
        let control: ControlClient
        do throws(RedisError) {
            receiver = try await EventReceiver.connect(url: url, options: options, logger: logger)
            do throws(RedisError) {
                control = try await ControlClient.connect(url: url, options: options, logger: logger)
            } catch {
                receiver.close()
                throw error
            }
        } catch {
            redis.close()
            throw error
        }
        let feed = RedisMonitorFeed(
            receiver: receiver, control: control, redis: redis, defaultQueue: config.taskDefaultQueue,
            buffer: MonitorInputBuffer(capacity: bufferCapacity, byteCapacity: bufferBytes), logger: logger)
        feed.start(enableEvents: enableEvents)
        return feed
    }

    /// Everything that arrived since the last call, oldest first.
    public func drain() -> [MonitorInput] { buffer.drain() }

    /// Ends the event stream at a sync point: when it returns `true`, every event Redis accepted
    /// before this call (including those it had sent and qmon had not read or decoded yet) is
    /// in the buffer for the next ``drain()``, and no later event is.
    ///
    /// It PUBLISHes an empty sync marker (``Celeriac/EventChannel/syncMarker(db:token:)``) on the
    /// polling connection and lets the event task run until the marker comes through the
    /// subscription (``Celeriac/EventReceiver/finish(atSyncMarker:)``): Redis delivers the
    /// subscription's messages in publish order, so everything published before the marker came
    /// first. The marker never reaches the buffer. If the PUBLISH fails, or the marker does not
    /// come within `fallback` (Redis went away, or the subscription was reconnecting), it stops
    /// the stream anyway, keeps what arrived, and returns `false`. Other inputs (queue depths,
    /// stats) go on until ``close()``.
    ///
    /// - Parameter fallback: The longest wait for the marker (``syncFallback`` by default).
    /// - Returns: Whether the marker arrived, i.e. nothing published before the call is missing.
    @discardableResult
    public func finishEvents(fallback: Duration = syncFallback) async -> Bool {
        guard let events = eventTask.withLock({ $0 }) else { return false }
        let token = UUID().uuidString.lowercased()
        let marker = EventChannel.syncMarker(db: receiver.database, token: token)
        receiver.finish(atSyncMarker: token)
        let redis = redis
        let synced = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let outcome = FirstOutcome(continuation)
            let timer = Task {
                try? await Task.sleep(for: fallback)
                outcome.settle(false)
            }
            Task {
                await events.value
                outcome.settle(true)
                timer.cancel()
            }
            Task {
                do {
                    _ = try await redis.send(RedisCommand("PUBLISH", marker, ""))
                } catch {
                    outcome.settle(false)
                    timer.cancel()
                }
            }
        }
        if !synced {
            // Ends the stream after what it holds; the event task then stops by itself.
            receiver.close()
            await events.value
        }
        return synced
    }

    /// Stops the tasks and closes every connection (removing the control reply queue).
    public func close() async {
        let running = tasks.withLock { t in
            defer { t = [] }
            return t
        }
        for task in running { task.cancel() }
        receiver.close()
        await control.close()
        redis.close()
    }

    /// Local wall-clock time, epoch seconds: what receive times are measured in.
    static func now() -> Double { Date().timeIntervalSince1970 }

    // MARK: - Tasks

    private func start(enableEvents: Bool) {
        let receiver = receiver
        let buffer = buffer
        let events = Task {
            for await event in receiver.events {
                buffer.append(event: event, receivedAt: Self.now())
            }
        }
        let control = control
        let logger = logger
        let greet = Task {
            do {
                try await control.heartbeat()
                if enableEvents { try await control.enableEvents() }
            } catch {
                logger.warning("qmon could not broadcast heartbeat/enable_events: \(error)")
            }
        }
        let stats = Task { [weak self] in
            // Give the workers a moment to answer the heartbeat broadcast first: the model only
            // takes stats for workers it already knows.
            try? await Task.sleep(for: .milliseconds(500))
            while !Task.isCancelled {
                await self?.pollStats()
                try? await Task.sleep(for: Self.statsInterval)
            }
        }
        let queues = Task { [weak self] in
            var health = PollHealth()
            var names: [String] = []
            var discovered = ContinuousClock.now - Self.discoveryInterval
            while !Task.isCancelled {
                guard let self else { return }
                do {
                    if ContinuousClock.now - discovered >= Self.discoveryInterval {
                        names = try await self.discoverQueues()
                        discovered = .now
                    }
                    try await self.pollQueues(names)
                    if let notice = health.succeeded() { self.buffer.append(.notice(notice)) }
                } catch {
                    if let notice = health.failed(error) { self.buffer.append(.notice(notice)) }
                }
                try? await Task.sleep(for: Self.queueInterval)
            }
        }
        tasks.withLock { $0 = [events, greet, stats, queues] }
        eventTask.withLock { $0 = events }
    }

    /// Asks every worker for `inspect stats` and buffers each reply.
    private func pollStats() async {
        guard let replies = try? await control.inspect("stats", timeout: .seconds(1)) else { return }
        for (hostname, stats) in replies.sorted(by: { $0.key < $1.key }) {
            buffer.append(.workerStats(hostname: hostname, stats: stats))
        }
    }

    /// The default queue plus every queue some non-internal exchange routes to, sorted.
    func discoverQueues() async throws(RedisError) -> [String] {
        var keys: [String] = []
        var cursor = "0"
        repeat {
            let reply = try await redis.send(RedisCommand("SCAN", cursor, "MATCH", QueueProbe.bindingPattern, "COUNT", 1000))
            guard let parts = reply.array, parts.count == 2, let next = parts[0].string else {
                throw RedisError(.protocolViolation, "unexpected SCAN reply")
            }
            cursor = next
            for key in parts[1].array ?? [] {
                if let k = key.string, !QueueProbe.isInternalBinding(k) { keys.append(k) }
            }
        } while cursor != "0"
        let members = try await redis.pipeline(keys.map { RedisCommand("SMEMBERS", $0) })
        var names = QueueProbe.queueNames(fromMembers: members)
        names.insert(defaultQueue)
        return names.sorted()
    }

    /// Polls the depths of `queues` in one round trip and buffers the samples.
    private func pollQueues(_ queues: [String]) async throws(RedisError) {
        let replies = try await redis.pipeline(QueueProbe.depthCommands(queues: queues))
        if let message = replies.lazy.compactMap(\.errorMessage).first {
            logger.debug("queue poll: \(message)")
        }
        let now = Self.now()
        buffer.append(.queues(QueueProbe.samples(from: replies, queues: queues, sampledAt: now), at: now))
    }

    // MARK: - Backfill

    /// Fills the feed with the most recent stored results, so a freshly started qmon shows
    /// recent outcomes (see ``ClusterState/backfillEvent(for:)``).
    ///
    /// `SCAN`s `celery-task-meta-*` on the broker's database (where results live unless a
    /// separate backend is configured) until `limit` keys, `GET`s them in pipelined batches of
    /// 500, and buffers one ``MonitorInput/events(_:receivedAt:)`` per result, oldest first,
    /// filed under its `date_done`. Unreadable results are skipped.
    ///
    /// - Parameters:
    ///   - limit: Results read at most.
    ///   - backend: The result backend's connection, if it is not the broker's.
    /// - Returns: How many results were buffered.
    public func backfill(limit: Int, backend: RedisClient? = nil) async -> Int {
        let client = backend ?? redis
        guard limit > 0 else { return 0 }
        var keys: [String] = []
        var cursor = "0"
        do {
            repeat {
                let reply = try await client.send(RedisCommand("SCAN", cursor, "MATCH", "celery-task-meta-*", "COUNT", 1000))
                guard let parts = reply.array, parts.count == 2, let next = parts[0].string else { break }
                cursor = next
                for key in parts[1].array ?? [] where keys.count < limit {
                    if let k = key.string { keys.append(k) }
                }
            } while cursor != "0" && keys.count < limit
            var metas: [ResultMeta] = []
            var start = 0
            while start < keys.count {
                let batch = keys[start..<min(start + 500, keys.count)]
                start += batch.count
                let replies = try await client.pipeline(batch.map { RedisCommand("GET", $0) })
                for reply in replies {
                    if let bytes = reply.bytes, let meta = try? ResultMeta.decode(bytes) { metas.append(meta) }
                }
            }
            let now = Self.now()
            let ordered = metas.sorted {
                ($0.dateDone?.timeIntervalSince1970 ?? now) < ($1.dateDone?.timeIntervalSince1970 ?? now)
            }
            var count = 0
            for meta in ordered {
                guard let event = ClusterState.backfillEvent(for: meta) else { continue }
                buffer.append(.events([event], receivedAt: meta.dateDone?.timeIntervalSince1970 ?? now))
                count += 1
            }
            return count
        } catch {
            buffer.append(.notice("could not read stored results: \(error.message)"))
            return 0
        }
    }
}

/// Resumes a continuation with the first outcome offered and ignores the rest: the sync marker,
/// a failed PUBLISH and the fallback timer race in ``RedisMonitorFeed/finishEvents(fallback:)``.
private final class FirstOutcome: Sendable {
    private let continuation: Mutex<CheckedContinuation<Bool, Never>?>

    init(_ continuation: CheckedContinuation<Bool, Never>) {
        self.continuation = Mutex(continuation)
    }

    func settle(_ value: Bool) {
        continuation.withLock { c in
            defer { c = nil }
            return c
        }?.resume(returning: value)
    }
}
