public import Celeriac
public import Logging
public import ServiceLifecycle
import Foundation
import Synchronization

/// A headless Celery-compatible worker: consumes queues, runs registered tasks with bounded
/// concurrency and prefetch, and stores results, keeping kombu's `unacked` bookkeeping so Python
/// processes sharing the Redis can restore what it holds.
///
/// Run it inside a `ServiceGroup` (``WorkerCommand`` does): a graceful shutdown (SIGTERM, Ctrl-C)
/// stops consuming, lets running tasks finish, and puts every message it holds but has not
/// started back on its queue.
public final class Worker: Service, Sendable {
    public let settings: WorkerSettings
    public let tasks: TaskRegistry
    let logger: Logger

    /// Messages held (received, not finished): the prefetch window.
    private let prefetch: AsyncSemaphore
    /// Tasks running at once.
    private let pool: AsyncSemaphore
    private let stopping = Atomic<Bool>(false)
    private let counters = Mutex(Counters())

    struct Counters {
        var processed = 0
        var active = 0
        var total: [String: Int] = [:]
    }

    public init(settings: WorkerSettings, tasks: TaskRegistry, logger: Logger) {
        self.settings = settings
        self.tasks = tasks
        self.logger = logger
        prefetch = AsyncSemaphore(slots: settings.prefetchLimit)
        pool = AsyncSemaphore(slots: settings.concurrency)
    }

    /// Tasks finished since start.
    public var processed: Int { counters.withLock { $0.processed } }

    /// Connections a running worker uses; one for blocking pops, one for everything else.
    struct Connections: Sendable {
        let consumer: RedisClient
        let broker: RedisClient
        let backend: RedisResultBackend?
    }

    private func options(_ name: String) -> RedisOptions {
        var o = RedisOptions()
        o.name = name
        return o
    }

    public func run() async throws {
        let consumer = try await RedisClient.connect(url: settings.brokerURL, options: options("consumer"), logger: logger)
        let broker = try await RedisClient.connect(url: settings.brokerURL, options: options("broker"), logger: logger)
        var backend: RedisResultBackend?
        if let url = settings.resultBackendURL {
            let client = url == settings.brokerURL ? broker : try await RedisClient.connect(url: url, options: options("backend"), logger: logger)
            backend = RedisResultBackend(client: client, expires: settings.resultExpires)
        }
        let connections = Connections(consumer: consumer, broker: broker, backend: backend)
        defer {
            consumer.close()
            broker.close()
            backend?.client.close()
        }
        let declarer = RedisBroker(client: broker)
        for queue in settings.queues { try await declarer.declare(queue: queue) }
        logger.info("\(settings.nodeName) ready: broker \(settings.brokerURL), results \(settings.resultBackendURL.map { "\($0)" } ?? "disabled"), queues \(settings.queues.joined(separator: ",")), concurrency \(settings.concurrency), prefetch \(settings.prefetchLimit), \(tasks.names.count) tasks")

        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                var order = QueueKeys.consumeOrder(queues: settings.queues)
                while !stopping.load(ordering: .relaxed) {
                    do { try await prefetch.acquire() } catch { break }
                    guard let (key, raw) = await pop(connections, keys: order) else {
                        prefetch.release()
                        continue
                    }
                    if settings.queues.count > 1 { order = rotate(order, after: key) }
                    guard let delivery = await receive(raw, from: key, connections) else {
                        prefetch.release()
                        continue
                    }
                    if stopping.load(ordering: .relaxed) {
                        await restore(delivery, connections)
                        prefetch.release()
                        break
                    }
                    group.addTask {
                        await self.process(delivery, connections)
                        self.prefetch.release()
                    }
                }
                // Warm shutdown: messages still waiting for a pool slot go back to their queues;
                // running tasks finish before the group returns.
                pool.close()
            }
        } onGracefulShutdown: {
            self.beginShutdown()
        }
        logger.info("\(settings.nodeName) stopped after \(processed) tasks")
    }

    /// Stops taking messages; called on SIGTERM/SIGINT through the service group.
    public func beginShutdown() {
        guard !stopping.exchange(true, ordering: .relaxed) else { return }
        logger.info("warm shutdown: finishing running tasks, returning held messages to their queues")
        prefetch.close()
    }

    /// One BRPOP across the consumed lists; `nil` on timeout or a Redis error (already logged by the client).
    private func pop(_ c: Connections, keys: [String]) async -> (String, [UInt8])? {
        do {
            let reply = try await c.consumer.send(RedisCommand("BRPOP", arguments: keys + [settings.pollTimeout]))
            guard let pair = reply.array, pair.count == 2, let key = pair[0].string, let raw = pair[1].bytes else { return nil }
            return (key, raw)
        } catch {
            if !error.isConnectionProblem { logger.error("BRPOP failed: \(error)") }
            // The client reconnects by itself; don't spin while it does.
            try? await Task.sleep(for: .milliseconds(200))
            return nil
        }
    }

    /// Round-robins the queue order after a delivery, as kombu's cycle does.
    private func rotate(_ order: [String], after key: String) -> [String] {
        let queue = QueueKeys.queueName(ofList: key)
        let queues = settings.queues
        guard let i = queues.firstIndex(of: queue) else { return order }
        let rotated = Array(queues[(i + 1)...] + queues[...i])
        return QueueKeys.consumeOrder(queues: rotated)
    }

    /// Decodes a popped message and records it in `unacked`; a message that cannot be decoded goes
    /// to the dead-letter list instead, with the reason, and `nil` is returned.
    private func receive(_ raw: [UInt8], from key: String, _ c: Connections) async -> Delivery? {
        let message: TaskMessage
        do {
            message = try TaskMessage.decode(bytes: raw)
        } catch {
            await deadLetter(raw, from: key, reason: "\(error)", c)
            return nil
        }
        let delivery = Delivery(listKey: key, raw: raw, message: message)
        let entry = UnackedEntry.encode(envelopeBytes: raw, exchange: message.exchange, routingKey: message.routingKey)
        await retryingRedis("record \(delivery.label) as unacked") {
            _ = try await c.broker.transaction([
                RedisCommand("ZADD", "unacked_index", Date().timeIntervalSince1970, delivery.tag),
                RedisCommand("HSET", "unacked", delivery.tag, entry),
            ])
        }
        logger.info("Task \(delivery.label) received")
        return delivery
    }

    private func deadLetter(_ raw: [UInt8], from key: String, reason: String, _ c: Connections) async {
        let record = DeadLetter(reason: reason, queue: QueueKeys.queueName(ofList: key), time: Date(), worker: settings.nodeName, rawMessage: raw)
        logger.error("dead-lettered a message from \(QueueKeys.queueName(ofList: key)) to \(settings.deadLetterKey): \(reason)")
        await retryingRedis("dead-letter a message") {
            _ = try await c.broker.send(RedisCommand("LPUSH", settings.deadLetterKey, record.encoded()))
        }
    }

    /// Runs one received message to its end: expiry and ETA checks, a pool slot, early ack,
    /// the task body, and its result.
    private func process(_ d: Delivery, _ c: Connections) async {
        let m = d.message
        guard let task = tasks[m.name] else {
            logger.error("Received unregistered task of type '\(m.name)' [\(m.id)]: rejected and marked FAILURE NotRegistered")
            await finish(d, .failure(taskID: m.id, exception: TaskError.notRegistered(m.name).exceptionInfo, traceback: nil, now: Date(), parentID: m.parentID, groupID: m.group), c)
            return
        }
        if let expires = m.expires, expires < Date() {
            logger.info("Task \(d.label) expired: not run, marked REVOKED")
            await finish(d, .revoked(taskID: m.id, reason: "expired", children: .array([]), now: Date()), c)
            return
        }
        if let eta = m.eta {
            while Date() < eta {
                if stopping.load(ordering: .relaxed) {
                    await restore(d, c)
                    return
                }
                try? await Task.sleep(for: .milliseconds(min(100, max(1, Int(eta.timeIntervalSinceNow * 1000)))))
            }
        }
        do {
            try await pool.acquire()
        } catch {
            await restore(d, c)
            return
        }
        defer { pool.release() }
        counters.withLock { $0.active += 1 }
        await ack(d, c)
        let started = ContinuousClock.now
        let context = TaskContext(id: m.id, name: m.name, retries: m.retries, rootID: m.rootID, parentID: m.parentID,
                                  hostname: settings.nodeName, logger: logger)
        let outcome: Result<JSONValue, TaskError>
        do {
            let value = try await TaskContext.$current.withValue(context) {
                try await task.body(TaskArguments(args: m.args, kwargs: m.kwargs))
            }
            outcome = .success(value)
        } catch {
            outcome = .failure(TaskError.from(error))
        }
        let runtime = started.duration(to: .now)
        counters.withLock {
            $0.active -= 1
            $0.processed += 1
            $0.total[m.name, default: 0] += 1
        }
        let seconds = Double(runtime.components.seconds) + Double(runtime.components.attoseconds) / 1e18
        switch outcome {
        case .success(let value):
            logger.info("Task \(d.label) succeeded in \(String(format: "%.6f", seconds))s: \(PythonRepr.saferepr(value, maxlen: 200))")
            await store(m, .success(taskID: m.id, result: value, now: Date(), parentID: m.parentID, groupID: m.group), c)
        case .failure(let error):
            logger.error("Task \(d.label) raised unexpected: \(error.exceptionInfo.summary)")
            let traceback = "Traceback (most recent call last):\n  Swift task \(m.name)[\(m.id)] on \(settings.nodeName)\n\(error.type): \(error.message)\n"
            await store(m, .failure(taskID: m.id, exception: error.exceptionInfo, traceback: traceback, now: Date(), parentID: m.parentID, groupID: m.group), c)
        }
    }

    /// Acks a message that will not run and stores its final state.
    private func finish(_ d: Delivery, _ meta: ResultMeta, _ c: Connections) async {
        await store(d.message, meta, c)
        await ack(d, c)
    }

    private func store(_ m: TaskMessage, _ meta: ResultMeta, _ c: Connections) async {
        guard let backend = c.backend, m.ignoreResult != true else { return }
        await retryingRedis("store the result of \(m.name)[\(m.id)]") {
            try await backend.store(meta)
        }
    }

    /// Removes the message from kombu's `unacked` bookkeeping: it is ours now, for good.
    private func ack(_ d: Delivery, _ c: Connections) async {
        await retryingRedis("ack \(d.label)") {
            _ = try await c.broker.transaction([
                RedisCommand("ZREM", "unacked_index", d.tag),
                RedisCommand("HDEL", "unacked", d.tag),
            ])
        }
    }

    /// Puts a held message back where the next BRPOP takes it, flagged as redelivered, exactly as
    /// kombu's restore does (RPUSH, same delivery tag, in one transaction with the un-record).
    private func restore(_ d: Delivery, _ c: Connections) async {
        var message = d.message
        message.markRedelivered()
        let envelope = message.encoded()
        let list = QueueKeys.list(queue: d.message.routingKey, priority: d.message.priority)
        await retryingRedis("restore \(d.label)") {
            _ = try await c.broker.transaction([
                RedisCommand("ZREM", "unacked_index", d.tag),
                RedisCommand("HDEL", "unacked", d.tag),
                RedisCommand("RPUSH", list, envelope),
            ])
        }
        logger.info("Task \(d.label) restored to \(d.message.routingKey)")
    }

    /// Runs a Redis step until it succeeds: during an outage the client already logged one line
    /// and is reconnecting, and giving up here would lose a result or leave a message dangling.
    private func retryingRedis(_ what: String, _ body: () async throws -> Void) async {
        var delay = Duration.milliseconds(50)
        while true {
            do {
                try await body()
                return
            } catch let error as RedisError where error.isConnectionProblem {
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(2))
            } catch {
                logger.error("could not \(what): \(error)")
                return
            }
        }
    }
}
