import Celeriac
import Foundation
import Logging
import Synchronization

/// The worker's pidbox: receives broadcast control commands (`/<db>.celery.pidbox`, pub/sub),
/// runs those addressed to this node, and replies the way Python workers do: by looking up the
/// client's reply queue in `_kombu.binding.reply.celery.pidbox` and LPUSHing the reply there
/// (no binding, no reply — Python drops it too).
///
/// Commands arrive on the subscriber's thread and are handed to ``serve()`` through a stream, so
/// a slow command (a backend lookup for `revoke`) never stalls the pub/sub loop.
final class ControlServer: Sendable {
    private let worker: Worker
    private let live: Worker.Live
    private let subscriber: RedisSubscriber
    private let stream: AsyncStream<[UInt8]>
    private let input: AsyncStream<[UInt8]>.Continuation
    private let malformedLog: RateLimitedLog

    private init(worker: Worker, live: Worker.Live, subscriber: RedisSubscriber, stream: AsyncStream<[UInt8]>,
                 input: AsyncStream<[UInt8]>.Continuation) {
        self.worker = worker
        self.live = live
        self.subscriber = subscriber
        self.stream = stream
        self.input = input
        malformedLog = RateLimitedLog(logger: worker.logger, interval: .seconds(10))
    }

    static func start(worker: Worker, live: Worker.Live) async throws -> ControlServer {
        let (stream, input) = AsyncStream.makeStream(of: [UInt8].self, bufferingPolicy: .bufferingNewest(1024))
        var options = RedisOptions()
        options.name = "pidbox"
        options.outageLog = worker.outageLog
        let subscriber = try await RedisSubscriber.connect(url: worker.settings.brokerURL, options: options, logger: worker.logger) { event in
            if case .patternMessage(_, _, let payload) = event { input.yield(payload) }
        }
        let server = ControlServer(worker: worker, live: live, subscriber: subscriber, stream: stream, input: input)
        let db = worker.settings.brokerURL.database
        try await subscriber.psubscribe([ControlNames.broadcastChannel(db: db)])
        // Declare our pidbox queue binding as kombu does; nothing routes through it on Redis, but
        // tools that list bindings (and Python's sweeps) see a well-formed table.
        _ = try? await live.broker.send(RedisCommand("SADD", ControlNames.workerBindingSet(), ControlNames.workerBindingMember(nodeName: worker.settings.nodeName)))
        return server
    }

    /// Handles commands until ``close()``.
    func serve() async {
        for await payload in stream {
            await handle(payload)
        }
    }

    func close() {
        input.finish()
        subscriber.close()
    }

    /// Asks running workers for their revoked ids (Celery's mingle `hello`) and merges them.
    func syncRevokedWithPeers() async {
        guard worker.settings.mingle else { return }
        do {
            let client = try await ControlClient.connect(url: worker.settings.brokerURL, logger: worker.logger)
            let replies: [String: JSONValue]
            do {
                replies = try await client.broadcast("hello", arguments: ["from_node": .string(worker.settings.nodeName), "revoked": .array([])],
                                                     timeout: .seconds(1))
                await client.close()
            } catch {
                await client.close()
                throw error
            }
            var merged = 0
            for (node, reply) in replies where node != worker.settings.nodeName {
                guard let ids = reply["revoked"]?.arrayValue else { continue }
                worker.revoked.add(ids.compactMap(\.stringValue))
                merged += ids.count
                if let clock = reply["clock"]?.intValue { live.events.publisher.adjustClock(clock) }
            }
            if !replies.isEmpty { worker.logger.info("mingle: synced with \(replies.count) node(s), \(merged) revoked id(s)") }
        } catch {
            worker.logger.warning("mingle: could not sync with other workers: \(error)")
        }
    }

    private func handle(_ payload: [UInt8]) async {
        let command: ControlCommand
        do {
            command = try ControlCommand.decode(payload: payload)
        } catch {
            malformedLog.log(kind: "\(error.code)", "ignoring a malformed control message: \(error)")
            return
        }
        guard command.isAddressed(to: worker.settings.nodeName) else { return }
        live.events.publisher.adjustClock(command.clock)
        let result = await dispatch(command)
        guard command.wantsReply, let result, let replyTo = command.replyTo else { return }
        await reply(result, to: replyTo.routingKey, ticket: command.ticket)
    }

    private func reply(_ result: JSONValue, to routingKey: String, ticket: String?) async {
        do {
            let members = try await live.broker.send(RedisCommand("SMEMBERS", ControlNames.replyBindingSet())).array ?? []
            let queues = members.compactMap { $0.string.flatMap(QueueKeys.parseBindingMember) }.filter { $0.routingKey == routingKey }.map(\.queue)
            guard !queues.isEmpty else {
                worker.logger.debug("no reply binding for \(routingKey): reply dropped, as Python workers do")
                return
            }
            let bytes = ControlReply.encode(nodeName: worker.settings.nodeName, result: result, ticket: ticket ?? "",
                                            clock: live.events.publisher.nextClock(), replyRoutingKey: routingKey,
                                            deliveryTag: UUID().uuidString.lowercased())
            _ = try await live.broker.pipeline(queues.map { RedisCommand("LPUSH", $0, bytes) })
        } catch {
            worker.logger.warning("could not send a control reply: \(error)")
        }
    }

    /// Runs one command and returns its reply (nil for commands that never reply).
    private func dispatch(_ c: ControlCommand) async -> JSONValue? {
        let args = c.arguments
        let w = worker
        switch c.method {
        case "ping":
            return ControlReplyBody.pong
        case "heartbeat":
            // Celery answers with an immediate heartbeat (freq 5 in this one), never a reply.
            await live.events.worker(.workerHeartbeat, active: w.requests.activeCount, processed: w.processed, freq: 5)
            return nil
        case "hello":
            guard args["from_node"]?.stringValue != w.settings.nodeName else { return .null }
            if let theirs = args["revoked"]?.arrayValue { w.revoked.add(theirs.compactMap(\.stringValue)) }
            return ControlReplyBody.hello(revoked: w.revoked.ids(), clock: live.events.publisher.nextClock())
        case "active":
            return ControlReplyBody.requests(w.requests.requests(in: .active))
        case "reserved":
            return ControlReplyBody.requests(w.requests.requests(in: .reserved))
        case "scheduled":
            return .array(w.requests.scheduled())
        case "revoked":
            return ControlReplyBody.revoked(w.revoked.ids())
        case "registered":
            return ControlReplyBody.registered(w.tasks.names.map { name in
                w.rateLimits.describe(name).map { "\(name) [rate_limit=\($0)]" } ?? name
            })
        case "query_task":
            let ids = args["ids"].map { $0.arrayValue?.compactMap(\.stringValue) ?? [$0.stringValue].compactMap { $0 } } ?? []
            return w.requests.query(ids)
        case "stats":
            return stats()
        case "active_queues":
            return .array(w.queues.withLock { $0 }.map(Self.queueDeclaration))
        case "clock":
            return ControlReplyBody.clock(live.events.publisher.nextClock())
        case "conf":
            return conf()
        case "revoke":
            return await revoke(args)
        case "terminate":
            // `celery control terminate SIGNAL ID…`: a revoke that always terminates.
            var withTerminate = args
            withTerminate["terminate"] = true
            return await revoke(withTerminate)
        case "rate_limit":
            guard let name = args["task_name"]?.stringValue else { return ControlReplyBody.error("missing task_name") }
            guard w.tasks[name] != nil else { return ControlReplyBody.rateLimitUnknownTask }
            let text = args["rate_limit"]?.stringValue ?? args["rate_limit"].map { PythonRepr.repr($0) } ?? ""
            guard let rate = TaskRateLimiter.parse(text) else {
                return ControlReplyBody.error("Invalid rate limit string: ValueError('\(text)')")
            }
            w.rateLimits.set(name, perSecond: rate, text: text)
            w.logger.info("New rate limit for tasks of type \(name): \(rate == 0 ? "none" : text).")
            return rate == 0 ? ControlReplyBody.rateLimitDisabled : ControlReplyBody.rateLimitSet
        case "time_limit":
            guard let name = args["task_name"]?.stringValue, w.tasks[name] != nil else { return ControlReplyBody.error("unknown task") }
            w.timeLimits.set(name, hard: args["hard"]?.doubleValue, soft: args["soft"]?.doubleValue)
            return ControlReplyBody.ok("time limits set successfully")
        case "enable_events":
            return ControlReplyBody.ok(live.events.setTaskEvents(true) ? "task events enabled" : "task events already enabled")
        case "disable_events":
            return ControlReplyBody.ok(live.events.setTaskEvents(false) ? "task events disabled" : "task events already disabled")
        case "pool_grow":
            let n = max(1, args["n"]?.intValue ?? 1)
            w.resizePool(by: n)
            return ControlReplyBody.ok("pool will grow")
        case "pool_shrink":
            let n = max(1, args["n"]?.intValue ?? 1)
            w.resizePool(by: -n)
            return ControlReplyBody.ok("pool will shrink")
        case "add_consumer":
            guard let queue = args["queue"]?.stringValue, !queue.isEmpty else { return ControlReplyBody.error("missing queue") }
            let added = w.queues.withLock { q -> Bool in
                guard !q.contains(queue) else { return false }
                q.append(queue)
                return true
            }
            guard added else { return ControlReplyBody.ok("already consuming from \(PythonRepr.stringRepr(queue))") }
            try? await RedisBroker(client: live.broker).declare(queue: queue)
            w.logger.info("Started consuming from \(queue)")
            return ControlReplyBody.ok("add consumer \(queue)")
        case "cancel_consumer":
            guard let queue = args["queue"]?.stringValue else { return ControlReplyBody.error("missing queue") }
            w.queues.withLock { $0.removeAll { $0 == queue } }
            return ControlReplyBody.ok("no longer consuming from \(queue)")
        case "shutdown":
            w.logger.warning("Got shutdown from remote")
            w.beginShutdown()
            return nil
        default:
            return ControlReplyBody.unknownCommand(c.method)
        }
    }

    private func revoke(_ args: JSONObject) async -> JSONValue {
        let w = worker
        let ids: [String] = {
            switch args["task_id"] {
            case .string(let id)?: return [id]
            case .array(let items)?: return items.compactMap(\.stringValue)
            default: return []
            }
        }()
        var unique: [String] = []
        for id in ids where !unique.contains(id) { unique.append(id) }
        w.revoked.add(unique)
        try? w.revoked.save()
        // Celery 5.7 marks every id that is not running here and has no ready state as REVOKED
        // in the backend right away, even ids this worker never saw.
        if let backend = live.backend {
            for id in unique where !w.requests.isActive(id) {
                let current = try? await backend.meta(for: id)
                let state = current?.status ?? .pending
                guard [.pending, .received, .retry, .rejected].contains(state) else { continue }
                await w.retryingRedis("mark \(id) revoked") {
                    try await backend.store(.revoked(taskID: id, reason: "revoked", children: .null, now: Date()))
                }
            }
        }
        if args["terminate"]?.boolValue == true {
            let signum = Self.signalNumber(args["signal"]?.stringValue)
            let terminated = w.requests.terminate(unique, signum: signum)
            for id in terminated { w.logger.info("Terminating \(id) (\(signum))") }
            return terminated.isEmpty ? ControlReplyBody.revokeTerminateUnknown : ControlReplyBody.revokeTerminated(terminated)
        }
        w.logger.info("Tasks flagged as revoked: \(unique.joined(separator: ", "))")
        return ControlReplyBody.revokeFlagged(unique)
    }

    /// Celery's signal names (`SIGTERM`, `TERM`, `KILL`, `9`) as numbers; SIGTERM by default.
    static func signalNumber(_ name: String?) -> Int {
        guard let raw = name?.uppercased(), !raw.isEmpty else { return 15 }
        if let n = Int(raw) { return n }
        let bare = raw.hasPrefix("SIG") ? String(raw.dropFirst(3)) : raw
        let table: [String: Int] = ["HUP": 1, "INT": 2, "QUIT": 3, "KILL": 9, "USR1": 10, "USR2": 12, "TERM": 15]
        return table[bare] ?? 15
    }

    private func stats() -> JSONValue {
        let w = worker
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let seconds = { (t: timeval) in Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        let rusageObject: JSONObject = [
            "utime": .double(seconds(usage.ru_utime)), "stime": .double(seconds(usage.ru_stime)), "maxrss": .int(usage.ru_maxrss),
            "minflt": .int(usage.ru_minflt), "majflt": .int(usage.ru_majflt), "nvcsw": .int(usage.ru_nvcsw), "nivcsw": .int(usage.ru_nivcsw),
        ]
        let concurrency = w.counters.withLock { $0.concurrency }
        let pool = w.executor.info(concurrency: concurrency, timeLimit: w.settings.timeLimit)
        let url = w.settings.brokerURL
        var broker: JSONObject = ["transport": "redis", "virtual_host": .string(String(url.database)), "userid": url.username.map(JSONValue.string) ?? .null]
        switch url.endpoint {
        case .tcp(let host, let port):
            broker["hostname"] = .string(host)
            broker["port"] = .int(port)
        case .unix(let path):
            broker["hostname"] = .string(path)
            broker["port"] = .null
        }
        let total = w.counters.withLock { c in JSONObject(c.total.sorted { $0.key < $1.key }.map { JSONMember($0.key, .int($0.value)) }) }
        return ControlReplyBody.stats(total: total, pid: Int(ProcessInfo.processInfo.processIdentifier), clock: live.events.publisher.nextClock(),
                                      uptime: Int(Date().timeIntervalSince(w.startedAt)), pool: pool, broker: broker,
                                      prefetchCount: w.settings.prefetchMultiplier * concurrency, rusage: rusageObject)
    }

    private func conf() -> JSONValue {
        let s = worker.settings
        return [
            "broker_url": .string("\(s.brokerURL)"),
            "result_backend": s.resultBackendURL.map { .string("\($0)") } ?? "disabled",
            "task_default_queue": .string(s.queues.first ?? "celery"),
            "result_expires": .int(s.resultExpires),
            "worker_concurrency": .int(s.concurrency),
            "worker_prefetch_multiplier": .int(s.prefetchMultiplier),
            "worker_send_task_events": .bool(live.events.taskEventsEnabled),
        ]
    }

    /// A queue as `inspect active_queues` describes it (kombu's `Queue.as_dict`).
    static func queueDeclaration(_ name: String) -> JSONValue {
        [
            "name": .string(name),
            "exchange": ["name": .string(name), "type": "direct", "arguments": nil, "durable": true, "passive": false,
                         "auto_delete": false, "delivery_mode": nil, "no_declare": false],
            "routing_key": .string(name), "queue_arguments": nil, "binding_arguments": nil, "consumer_arguments": nil,
            "durable": true, "exclusive": false, "auto_delete": false, "no_ack": false, "alias": nil, "bindings": [],
            "no_declare": nil, "expires": nil, "message_ttl": nil, "max_length": nil, "max_length_bytes": nil, "max_priority": nil,
        ]
    }
}
