public import Logging
import Foundation

/// The sending side of an app: publishes tasks and reads their results.
///
/// ```swift
/// let client = try await CeleriacClient.connect(config: try .load(), logger: logger)
/// let sum = try await client.delay("demo.add", 2, 3).get(as: Int.self, timeout: .seconds(5))
/// ```
public final class CeleriacClient: Sendable {
    public let config: CeleriacConfig
    public let broker: RedisBroker
    let backend: RedisResultBackend?
    let waiter: ResultWaiter?
    /// This process's node name as Celery clients write it in `origin` (`gen<pid>@<host>`).
    public let origin: String
    /// `reply_to` of the signatures this client freezes in workflows (Celery's `app.thread_oid`).
    let oid = RandomUUID.string()
    private let logger: Logger

    /// Publishes `task-sent` after each send; only when ``CeleriacConfig/taskSendSentEvent`` is on.
    let events: EventPublisher?
    /// `before_task_publish`/`after_task_publish` hooks, in order.
    let middleware: [any TaskMiddleware]

    private init(
        config: CeleriacConfig, broker: RedisBroker, backend: RedisResultBackend?, waiter: ResultWaiter?,
        events: EventPublisher?, middleware: [any TaskMiddleware], logger: Logger
    ) {
        self.config = config
        self.broker = broker
        self.backend = backend
        self.waiter = waiter
        self.events = events
        self.middleware = middleware
        self.logger = logger
        origin = Self.processOrigin
    }

    /// `gen<pid>@<host>`, the node name of any Celery process that is not a worker.
    private static var processOrigin: String {
        "gen\(ProcessInfo.processInfo.processIdentifier)@\(ProcessInfo.processInfo.hostName)"
    }

    /// Connects to the broker and, unless results are disabled, the result backend; with
    /// ``CeleriacConfig/taskSendSentEvent`` on, also an ``EventPublisher`` for `task-sent`.
    /// `middleware`'s publish hooks see every message sent (``TaskMiddleware``).
    /// - Throws: ``RedisError`` when a URL is invalid or Redis refuses the connection or password.
    public static func connect(config: CeleriacConfig, options: RedisOptions = .init(), logger: Logger,
                               middleware: [any TaskMiddleware] = []) async throws(RedisError) -> CeleriacClient {
        if let warning = config.ignoredSettingsWarning { logger.warning("\(warning)") }
        let brokerURL = try RedisURL(parsing: config.brokerURL)
        var brokerOptions = options
        brokerOptions.name = "broker"
        let brokerClient = try await RedisClient.connect(url: brokerURL, options: brokerOptions, logger: logger)
        var backend: RedisResultBackend?
        var waiter: ResultWaiter?
        if let backendString = config.effectiveResultBackend {
            let backendURL = try RedisURL(parsing: backendString)
            let backendClient: RedisClient
            if backendURL == brokerURL {
                backendClient = brokerClient
            } else {
                var backendOptions = options
                backendOptions.name = "backend"
                backendClient = try await RedisClient.connect(url: backendURL, options: backendOptions, logger: logger)
            }
            let b = RedisResultBackend(client: backendClient, expires: config.resultExpires)
            backend = b
            waiter = try await ResultWaiter.connect(url: backendURL, options: options, backend: b, logger: logger)
        }
        var events: EventPublisher?
        if config.taskSendSentEvent {
            // Its own connection, which gives up on an outage after a second: task-sent is
            // fire-and-forget and must not hold up `send`.
            let sender = EventSender(
                hostname: processOrigin, utcoffset: CeleryEvent.localUTCOffset(),
                pid: Int(ProcessInfo.processInfo.processIdentifier))
            do {
                events = try await EventPublisher.connect(url: brokerURL, sender: sender, options: options, logger: logger)
            } catch {
                waiter?.close()
                brokerClient.close()
                backend?.client.close()
                throw error
            }
        }
        return CeleriacClient(
            config: config, broker: RedisBroker(client: brokerClient), backend: backend, waiter: waiter, events: events,
            middleware: middleware, logger: logger)
    }

    /// Sends a task by name, like Celery's `send_task`/`apply_async`.
    ///
    /// With ``CeleriacConfig/taskSendSentEvent`` on, a `task-sent` event follows the publish
    /// (on `/<db>.celeryev/task.sent`, hostname ``origin``), as Celery's client sends it.
    /// Requests the result channel subscription before publishing (unless results are ignored)
    /// but, as Celery's client, does not wait for Redis to confirm it: that would be a second
    /// round trip per send. Nor does it wake the subscriber's thread to write it: the request
    /// goes out with the thread's next wake-up (at the latest ``RedisOptions/subscriberIdleWake``
    /// later), or at once when a result is waited for. ``AsyncResult/get(timeout:)`` cannot miss
    /// a fast result all the same, because it waits for the confirmation and then reads the
    /// stored result (see ``ResultWaiter``).
    public func send(_ name: String, args: [JSONValue] = [], kwargs: JSONObject = [:], options: TaskSendOptions = .init()) async throws -> AsyncResult {
        var options = options
        if options.queue == nil { options.queue = config.taskDefaultQueue }
        let message = TaskMessage.make(name: name, args: args, kwargs: kwargs, options: options, origin: origin,
                                       now: Date(), newID: RandomUUID.string)
        return AsyncResult(id: try await publish(message, subscribing: !options.ignoreResult), client: self)
    }

    /// Publishes one message as every send does: the middleware's `beforePublish`, the result
    /// channel's subscription requested (unless results are ignored), the publish,
    /// `afterPublish`, and `task-sent` when it is on. Returns the id the message went out with.
    func publish(_ message: TaskMessage, subscribing: Bool) async throws -> String {
        var message = message
        for hook in middleware { hook.beforePublish(&message) }
        if let waiter, subscribing, message.ignoreResult != true {
            waiter.requestSubscriptions([message.id])
        }
        try await broker.publish(message)
        for hook in middleware { hook.afterPublish(message) }
        if let events { await events.publish(taskSentEvent(message, publisher: events)) }
        return message.id
    }

    /// One task of a ``sendMany(_:)`` batch.
    public struct Signature: Sendable {
        public var name: String
        public var args: [JSONValue]
        public var kwargs: JSONObject
        public var options: TaskSendOptions

        public init(_ name: String, args: [JSONValue] = [], kwargs: JSONObject = [:], options: TaskSendOptions = .init()) {
            self.name = name
            self.args = args
            self.kwargs = kwargs
            self.options = options
        }
    }

    /// Sends many tasks pipelined, in chunks queued as they are built: the bulk API for producers that enqueue
    /// thousands at once. Each message is exactly what ``send(_:args:kwargs:options:)`` would
    /// publish (a Python worker cannot tell them apart); result subscriptions are requested
    /// as the messages go out and confirmed when a result is waited for, as with `send`.
    ///
    /// With `subscribingResults` false no result channel is subscribed now: for producers that
    /// rarely wait, this saves the client and Redis a subscription per task (about a third of
    /// the cost of a bulk send, and channels that stay subscribed until their result is
    /// collected). ``AsyncResult/get(timeout:)`` then subscribes when called, one round trip
    /// more, and still cannot miss the result (it reads the stored one after subscribing).
    /// - Returns: One ``AsyncResult`` per signature, in order.
    public func sendMany(_ signatures: [Signature], subscribingResults: Bool = true) async throws -> [AsyncResult] {
        guard !signatures.isEmpty else { return [] }
        let now = Date()
        var queues = Set<String>()
        for signature in signatures { queues.insert(signature.options.queue ?? config.taskDefaultQueue) }
        for queue in queues { try await broker.declare(queue: queue) }
        var ids: [String] = []
        ids.reserveCapacity(signatures.count)
        var published: [TaskMessage] = []
        var writer = TaskMessageWriter()
        let chunkSize = Self.sendManyChunk
        // Each chunk is built, subscribed and queued while the Redis thread sends the previous one.
        _ = try await broker.client.pipeline(chunks: (signatures.count + chunkSize - 1) / chunkSize) { chunk in
            var commands: [RedisCommand] = []
            var subscribe: [String] = []
            commands.reserveCapacity(chunkSize)
            for signature in signatures[chunk * chunkSize..<min(signatures.count, (chunk + 1) * chunkSize)] {
                var options = signature.options
                if options.queue == nil { options.queue = config.taskDefaultQueue }
                var message = TaskMessage.make(name: signature.name, args: signature.args, kwargs: signature.kwargs,
                                               options: options, origin: origin, now: now, newID: RandomUUID.string)
                for hook in middleware { hook.beforePublish(&message) }
                ids.append(message.id)
                if subscribingResults, message.ignoreResult != true { subscribe.append(message.id) }
                commands.append(RedisBroker.publishCommand(message, writer: &writer))
                if events != nil || !middleware.isEmpty { published.append(message) }
            }
            if let waiter, !subscribe.isEmpty { waiter.requestSubscriptions(subscribe) }
            return commands
        }
        for message in published {
            for hook in middleware { hook.afterPublish(message) }
        }
        if let events {
            for message in published { await events.publish(taskSentEvent(message, publisher: events)) }
        }
        return ids.map { AsyncResult(id: $0, client: self) }
    }

    /// Messages per pipelined request in ``sendMany(_:)``: small enough that the Redis thread
    /// starts sending early, large enough that waking it is rare.
    static let sendManyChunk = 128

    /// `task-sent` for a published message, with the fields Celery's `send_task_message` sends.
    func taskSentEvent(_ message: TaskMessage, publisher: EventPublisher) -> CeleryEvent {
        .taskSent(
            publisher.sender, clock: publisher.nextClock(), timestamp: Date().timeIntervalSince1970,
            uuid: message.id, rootID: message.rootID, parentID: message.parentID, name: message.name,
            args: message.argsRepr ?? PythonRepr.argsRepr(message.args),
            kwargs: message.kwargsRepr ?? PythonRepr.kwargsRepr(message.kwargs), retries: message.retries,
            eta: message.eta.map(CeleryDate.format), expires: message.expires.map(CeleryDate.format),
            queue: message.routingKey, exchange: message.exchange, routingKey: message.routingKey)
    }

    /// Sends a task with positional arguments, like Celery's `delay`.
    public func delay<each A: Encodable>(_ name: String, _ args: repeat each A) async throws -> AsyncResult {
        var values: [JSONValue] = []
        let encoder = JSONValueEncoder()
        for arg in repeat each args { values.append(try encoder.encode(arg)) }
        return try await send(name, args: values)
    }

    /// A handle on a result by id, e.g. for a task another process sent.
    public func result(id: String) -> AsyncResult { AsyncResult(id: id, client: self) }

    /// Closes the connections; pending waits fail.
    public func close() {
        waiter?.close()
        broker.client.close()
        backend?.client.close()
        events?.close()
    }
}
