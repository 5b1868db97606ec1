public import Logging
import Foundation
import Synchronization

/// Remote control of Celery workers over the pidbox, as Celery's `app.control` and
/// `app.control.inspect()` do it on Redis (SPEC e): ping, inspect, revoke, rate limits, pool
/// size, events on/off, shutdown. Works with Python Celery workers and Celeriac workers alike.
///
/// Each client has its own mailbox id (``oid``) and reply list `<oid>.reply.celery.pidbox`.
/// Before each command that wants replies it (re)registers that list in the reply exchange's
/// binding set, **without which Python workers silently drop their replies** (SPEC f.2), and
/// refreshes the binding table's deadline so kombu's sweeps keep it. It then PUBLISHes the
/// command on `/<db>.celery.pidbox` and pops replies with `BRPOP` on a dedicated connection,
/// keeping only those whose ticket matches the command.
///
/// ```swift
/// let control = try await ControlClient.connect(url: url, logger: logger)
/// let pongs = try await control.ping()                 // ["w1@host": {"ok": "pong"}]
/// let active = try await control.inspect("active")     // node → list of request dicts
/// try await control.revoke([id], terminate: true)
/// await control.close()
/// ```
///
/// Commands that collect replies run one at a time per client (they share the reply list);
/// fire-and-forget commands do not wait for them. Call ``close()`` when done: it removes the
/// binding and the reply lists, as Python clients do.
public final class ControlClient: Sendable {
    /// This client's mailbox id: the routing key of its replies. A fresh uuid per instance.
    public let oid: String
    /// The mailbox namespace, `celery` unless the app changed `control_exchange`.
    public let namespace: String
    /// The database whose workers this client talks to (part of the pub/sub channel name).
    public let database: Int

    private let client: RedisClient
    /// Only for BRPOP: a blocking pop holds its connection until it returns.
    private let poller: RedisClient
    private let logger: Logger
    private let problems: RateLimitedLog
    private let clock = Mutex(LamportClock())
    private let collecting = AsyncLock()
    private let closed = Mutex(false)

    private init(client: RedisClient, poller: RedisClient, namespace: String, logger: Logger) {
        self.client = client
        self.poller = poller
        self.namespace = namespace
        self.database = client.url.database
        self.logger = logger
        self.problems = RateLimitedLog(logger: logger)
        oid = UUID().uuidString.lowercased()
    }

    deinit {
        // Not closed by its owner: still remove the binding and lists, without waiting.
        guard !closed.withLock({ $0 }) else { return }
        poller.close()
        let client = client
        let cleanup = cleanupCommands
        Task {
            _ = try? await client.pipeline(cleanup)
            client.close()
        }
    }

    /// Connects two connections: one for commands, one for the blocking reply pops.
    ///
    /// - Parameters:
    ///   - url: The broker the workers consume from; its database number selects the channel.
    ///   - namespace: The mailbox namespace (`celery`).
    ///   - options: Connection options; the log name defaults to `"control"` and
    ///     ``RedisOptions/maxOutageWait`` to 5 s, so a command fails during a long outage
    ///     instead of hanging. The reply connection never uses a read timeout.
    ///   - logger: Receives outage lines and rate-limited warnings about malformed replies.
    /// - Throws: ``RedisError`` from the first connect.
    public static func connect(
        url: RedisURL, namespace: String = ControlNames.defaultNamespace, options: RedisOptions = .init(), logger: Logger
    ) async throws(RedisError) -> ControlClient {
        var options = options
        if options.name == RedisOptions().name { options.name = "control" }
        if options.maxOutageWait == nil { options.maxOutageWait = .seconds(5) }
        let client = try await RedisClient.connect(url: url, options: options, logger: logger)
        var pollOptions = options
        pollOptions.name = options.name + "-replies"
        // BRPOP blocks up to 1 s; a read timeout shorter than that would drop the connection.
        pollOptions.readTimeout = nil
        let poller: RedisClient
        do {
            poller = try await RedisClient.connect(url: url, options: pollOptions, logger: logger)
        } catch {
            client.close()
            throw error
        }
        return ControlClient(client: client, poller: poller, namespace: namespace, logger: logger)
    }

    // MARK: - Broadcast

    /// Sends a command to every worker (or to `destination`) and collects the replies.
    ///
    /// - Parameters:
    ///   - method: The command name (`ping`, `active`, `revoke`, …); an unknown name makes
    ///     Celery workers reply `{"error": "KeyError('<name>')"}`.
    ///   - arguments: The handler's keyword arguments.
    ///   - destination: Node names that should run it (`["w1@host"]`); `nil` for all workers.
    ///   - reply: Whether to ask for and collect replies. Without, the command is published
    ///     and the call returns `[:]` at once.
    ///   - timeout: How long to collect replies in total. Also sets the command's `expires`
    ///     header (now + timeout), which Python workers ignore.
    ///   - limit: Stop after this many replies; defaults to `destination.count` when a
    ///     destination is given (so addressed commands return as soon as all answered).
    /// - Returns: Each replying node's name → its handler result, e.g.
    ///   `["w1@host": {"ok": "pong"}]`. Nodes that did not answer in time are absent.
    /// - Throws: ``RedisError`` (e.g. Redis unreachable, or ``RedisError/Code/closed`` after
    ///   ``close()``); `CancellationError` when the calling task is cancelled while collecting.
    @discardableResult
    public func broadcast(
        _ method: String, arguments: JSONObject = [:], destination: [String]? = nil, reply: Bool = true,
        timeout: Duration = .seconds(1), limit: Int? = nil
    ) async throws -> [String: JSONValue] {
        let destination = destination.flatMap { $0.isEmpty ? nil : $0 }
        guard reply else {
            try await publish(command(method, arguments, destination, ticket: nil, timeout: timeout))
            return [:]
        }
        let limit = limit ?? destination?.count
        return try await collecting.withLock {
            try await declareReplyQueue()
            let ticket = UUID().uuidString.lowercased()
            try await publish(command(method, arguments, destination, ticket: ticket, timeout: timeout))
            return try await collect(ticket: ticket, timeout: timeout, limit: limit)
        }
    }

    // MARK: - Celery's control API

    /// `ping`: every live worker answers `{"ok": "pong"}`.
    ///
    /// - Returns: Node name → reply, for the workers that answered within `timeout`.
    /// - Throws: As ``broadcast(_:arguments:destination:reply:timeout:limit:)``.
    @discardableResult
    public func ping(destination: [String]? = nil, timeout: Duration = .seconds(1)) async throws -> [String: JSONValue] {
        try await broadcast("ping", destination: destination, timeout: timeout)
    }

    /// An `inspect` query, as `app.control.inspect().<what>()`.
    ///
    /// - Parameters:
    ///   - what: `active`, `reserved`, `scheduled`, `revoked`, `registered`, `stats`,
    ///     `query_task`, `active_queues`, `clock`, `conf`, or any other read-only method.
    ///   - arguments: The method's arguments; `nil` sends Celery's defaults
    ///     (``inspectArguments(_:)``). `query_task` needs `["ids": [...]]`.
    ///   - destination: Node names to ask; `nil` for all.
    ///   - timeout: How long to collect replies.
    /// - Returns: Node name → reply (a list of request dicts for `active`, a dict for `stats`, …;
    ///   see ``ControlReplyBody``).
    /// - Throws: As ``broadcast(_:arguments:destination:reply:timeout:limit:)``.
    public func inspect(
        _ what: String, arguments: JSONObject? = nil, destination: [String]? = nil, timeout: Duration = .seconds(1)
    ) async throws -> [String: JSONValue] {
        try await broadcast(what, arguments: arguments ?? Self.inspectArguments(what), destination: destination, timeout: timeout)
    }

    /// The arguments Celery 5.7's `Inspect` sends by default: `{"safe": null}` for `active`,
    /// `{"taskinfoitems": []}` for `registered`, `{}` otherwise.
    public static func inspectArguments(_ what: String) -> JSONObject {
        switch what {
        case "active": ["safe": nil]
        case "registered", "registered_tasks": ["taskinfoitems": []]
        default: [:]
        }
    }

    /// `revoke`: every worker remembers the ids (for 3 h) and will not run them; with
    /// `terminate`, a worker running one of them kills it with `signal`.
    ///
    /// - Parameters:
    ///   - ids: Task ids; one id is sent as a string, several as a list, as Celery does.
    ///   - terminate: Also kill the task if it is running.
    ///   - signal: The signal *name* Celery expects (`SIGTERM`, `SIGKILL`, …).
    ///   - reply: Collect replies (Celery's default is not to).
    ///   - destination: Node names; `nil` for all.
    ///   - timeout: How long to collect replies.
    /// - Returns: Node name → reply (`{"ok": "terminate: <id>"}`, `{"ok": "tasks {...} flagged
    ///   as revoked"}`); `[:]` without `reply`.
    /// - Throws: As ``broadcast(_:arguments:destination:reply:timeout:limit:)``.
    @discardableResult
    public func revoke(
        _ ids: [String], terminate: Bool = false, signal: String = "SIGTERM", reply: Bool = false,
        destination: [String]? = nil, timeout: Duration = .seconds(1)
    ) async throws -> [String: JSONValue] {
        var arguments = JSONObject()
        arguments.append("task_id", ids.count == 1 ? .string(ids[0]) : .array(ids.map(JSONValue.string)))
        arguments.append("terminate", .bool(terminate))
        arguments.append("signal", .string(signal))
        return try await broadcast("revoke", arguments: arguments, destination: destination, reply: reply, timeout: timeout)
    }

    /// `rate_limit`: sets a task's rate limit (`"10/m"`, `"100/s"`; `""` removes it).
    ///
    /// Collects replies by default (`{"ok": "new rate limit set successfully"}`), unlike
    /// Python's `control.rate_limit`, because the reply tells whether the task was known.
    /// - Throws: As ``broadcast(_:arguments:destination:reply:timeout:limit:)``.
    @discardableResult
    public func rateLimit(
        task: String, rate: String, destination: [String]? = nil, reply: Bool = true, timeout: Duration = .seconds(1)
    ) async throws -> [String: JSONValue] {
        var arguments = JSONObject()
        arguments.append("task_name", .string(task))
        arguments.append("rate_limit", .string(rate))
        return try await broadcast("rate_limit", arguments: arguments, destination: destination, reply: reply, timeout: timeout)
    }

    /// `shutdown`: the addressed workers (all when `destination` is `nil`) shut down warmly.
    /// Fire-and-forget, as in Celery.
    /// - Throws: ``RedisError`` when the command cannot be published.
    public func shutdown(destination: [String]? = nil) async throws {
        try await broadcast("shutdown", destination: destination, reply: false)
    }

    /// `heartbeat`: every worker publishes a `worker-heartbeat` event at once. Event monitors
    /// send it when they start, so they see all workers within milliseconds. No reply.
    /// - Throws: ``RedisError`` when the command cannot be published.
    public func heartbeat() async throws {
        try await broadcast("heartbeat", reply: false)
    }

    /// `enable_events`: workers start sending task events (like `-E`). Fire-and-forget.
    /// - Throws: ``RedisError`` when the command cannot be published.
    public func enableEvents(destination: [String]? = nil) async throws {
        try await broadcast("enable_events", destination: destination, reply: false)
    }

    /// `disable_events`: workers stop sending task events. Fire-and-forget.
    /// - Throws: ``RedisError`` when the command cannot be published.
    public func disableEvents(destination: [String]? = nil) async throws {
        try await broadcast("disable_events", destination: destination, reply: false)
    }

    /// `pool_grow`: adds `n` pool processes (or slots) to the addressed workers.
    /// - Returns: Node name → reply when `reply` is set (`{"ok": "pool will grow"}`), else `[:]`.
    /// - Throws: As ``broadcast(_:arguments:destination:reply:timeout:limit:)``.
    @discardableResult
    public func poolGrow(
        n: Int = 1, destination: [String]? = nil, reply: Bool = false, timeout: Duration = .seconds(1)
    ) async throws -> [String: JSONValue] {
        try await broadcast("pool_grow", arguments: ["n": .int(n)], destination: destination, reply: reply, timeout: timeout)
    }

    /// `pool_shrink`: removes `n` pool processes (or slots) from the addressed workers.
    /// - Returns: Node name → reply when `reply` is set (`{"ok": "pool will shrink"}`), else `[:]`.
    /// - Throws: As ``broadcast(_:arguments:destination:reply:timeout:limit:)``.
    @discardableResult
    public func poolShrink(
        n: Int = 1, destination: [String]? = nil, reply: Bool = false, timeout: Duration = .seconds(1)
    ) async throws -> [String: JSONValue] {
        try await broadcast("pool_shrink", arguments: ["n": .int(n)], destination: destination, reply: reply, timeout: timeout)
    }

    /// Removes this client's binding and reply lists (`SREM` from both binding sets, `DEL` of
    /// the four lists, as Python clients do) and closes both connections. A collection in
    /// progress fails with ``RedisError/Code/closed``. Idempotent.
    public func close() async {
        let first = closed.withLock { c -> Bool in
            defer { c = true }
            return !c
        }
        guard first else { return }
        poller.close()
        do {
            _ = try await client.pipeline(cleanupCommands)
        } catch {
            logger.debug("could not remove control reply queue \(replyQueue): \(error)")
        }
        client.close()
    }

    // MARK: - Internals

    private var replyQueue: String { ControlNames.replyQueue(oid: oid, namespace: namespace) }

    /// The reply list and its priority lists, in kombu's BRPOP order.
    private var replyLists: [String] { QueueKeys.consumeOrder(queues: [replyQueue]) }

    private var cleanupCommands: [RedisCommand] {
        let exchange = ControlNames.replyExchange(namespace: namespace)
        let member = ControlNames.replyBindingMember(oid: oid, namespace: namespace)
        return [
            RedisCommand("SREM", QueueKeys.bindingKey(exchange: exchange), member),
            RedisCommand("SREM", QueueKeys.permanentBindingKey(exchange: exchange), member),
            RedisCommand("DEL", arguments: replyLists),
        ]
    }

    private func command(
        _ method: String, _ arguments: JSONObject, _ destination: [String]?, ticket: String?, timeout: Duration
    ) -> ControlCommand {
        ControlCommand(
            method: method, arguments: arguments, destination: destination, ticket: ticket,
            replyTo: ticket.map { _ in
                ControlCommand.ReplyTo(exchange: ControlNames.replyExchange(namespace: namespace), routingKey: oid)
            },
            clock: clock.withLock { $0.forward() },
            expires: Date().timeIntervalSince1970 + timeout.seconds)
    }

    /// What kombu's `REFRESH_BINDING` script does for a reply queue: add the binding (workers
    /// look the reply list up through it) and push the table's deadline an hour ahead.
    private func declareReplyQueue() async throws(RedisError) {
        let exchange = ControlNames.replyExchange(namespace: namespace)
        let deadline = Int((Date().timeIntervalSince1970 * 1000).rounded()) + 3_600_000
        let replies = try await client.pipeline([
            RedisCommand("SADD", QueueKeys.bindingKey(exchange: exchange), ControlNames.replyBindingMember(oid: oid, namespace: namespace)),
            RedisCommand("ZADD", "_kombu.binding_deadlines", "GT", deadline, exchange),
        ])
        if let message = replies.lazy.compactMap(\.errorMessage).first { throw RedisError(.server, message) }
    }

    private func publish(_ command: ControlCommand) async throws(RedisError) {
        let payload = command.encode(deliveryTag: UUID().uuidString.lowercased(), namespace: namespace)
        _ = try await client.send(RedisCommand("PUBLISH", ControlNames.broadcastChannel(db: database, namespace: namespace), payload))
    }

    /// Pops replies until `limit` replies with `ticket` arrived or `timeout` passed. Replies
    /// with another ticket (late answers to an earlier command) are dropped, as kombu does.
    private func collect(ticket: String, timeout: Duration, limit: Int?) async throws -> [String: JSONValue] {
        let deadline = ContinuousClock.now + timeout
        var replies: [String: JSONValue] = [:]
        var received = 0
        let lists = replyLists
        while limit.map({ received < $0 }) ?? true {
            try Task.checkCancellation()
            let remaining = deadline - .now
            // BRPOP's timeout 0 means "forever"; below a millisecond there is nothing to wait for.
            guard remaining >= .milliseconds(1) else { break }
            let wait = min(remaining, .seconds(1))
            let popped = try await poller.send(
                RedisCommand("BRPOP", arguments: lists + [String(format: "%.3f", wait.seconds)]))
            guard case .array(let parts) = popped, parts.count == 2, let payload = parts[1].bytes else { continue }
            let reply: ControlReply
            do {
                reply = try ControlReply.decode(payload)
            } catch {
                problems.log(kind: "malformed.\(error.code)", "skipping a malformed control reply: \(error)")
                continue
            }
            if let c = reply.clock { clock.withLock { _ = $0.adjust(c) } }
            guard reply.ticket == ticket else {
                logger.debug("dropping a control reply from \(reply.nodeName) for another command")
                continue
            }
            replies[reply.nodeName] = reply.result
            received += 1
        }
        return replies
    }
}
