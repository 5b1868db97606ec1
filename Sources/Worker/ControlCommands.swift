import Celeriac
import Foundation

/// Runs the pidbox's commands against a ``ControlledWorker`` and builds their replies as
/// Celery's worker does. No I/O of its own: ``ControlServer`` receives the commands and sends
/// the replies, so these can be tested with a fake worker.
struct ControlCommands: Sendable {
    let worker: any ControlledWorker

    /// Runs `command` if it is addressed to this worker, after merging its clock.
    /// - Returns: The reply body, or `nil` when the command is not for this worker or never
    ///   replies (`heartbeat`, `shutdown`). Whether it is sent is up to the command's `reply_to`.
    func run(_ command: ControlCommand) async -> JSONValue? {
        guard command.isAddressed(to: worker.settings.nodeName) else { return nil }
        worker.adjustClock(to: command.clock)
        return await dispatch(command)
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
            await w.sendHeartbeat(freq: 5)
            return nil
        case "hello":
            guard args["from_node"]?.stringValue != w.settings.nodeName else { return .null }
            if let theirs = args["revoked"]?.arrayValue { w.addRevoked(theirs.compactMap(\.stringValue)) }
            return ControlReplyBody.hello(revoked: w.revokedIDs, clock: w.nextClock())
        case "active":
            return ControlReplyBody.requests(w.requests(in: .active))
        case "reserved":
            return ControlReplyBody.requests(w.requests(in: .reserved))
        case "scheduled":
            return .array(w.scheduledRequests())
        case "revoked":
            return ControlReplyBody.revoked(w.revokedIDs)
        case "registered":
            return ControlReplyBody.registered(w.taskNames.map { name in
                w.rateLimitText(of: name).map { "\(name) [rate_limit=\($0)]" } ?? name
            })
        case "query_task":
            let ids = args["ids"].map { $0.arrayValue?.compactMap(\.stringValue) ?? [$0.stringValue].compactMap { $0 } } ?? []
            return w.queryRequests(ids)
        case "stats":
            return stats()
        case "active_queues":
            return .array(w.consumedQueues.map(Self.queueDeclaration))
        case "clock":
            return ControlReplyBody.clock(w.nextClock())
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
            guard w.isRegistered(name) else { return ControlReplyBody.rateLimitUnknownTask }
            let text = args["rate_limit"]?.stringValue ?? args["rate_limit"].map { PythonRepr.repr($0) } ?? ""
            guard let rate = TaskRateLimiter.parse(text) else {
                return ControlReplyBody.error("Invalid rate limit string: ValueError('\(text)')")
            }
            w.setRateLimit(name, perSecond: rate, text: text)
            w.logger.info("New rate limit for tasks of type \(name): \(rate == 0 ? "none" : text).")
            return rate == 0 ? ControlReplyBody.rateLimitDisabled : ControlReplyBody.rateLimitSet
        case "time_limit":
            guard let name = args["task_name"]?.stringValue, w.isRegistered(name) else { return ControlReplyBody.error("unknown task") }
            w.setTimeLimit(name, hard: args["hard"]?.doubleValue, soft: args["soft"]?.doubleValue)
            return ControlReplyBody.ok("time limits set successfully")
        case "enable_events":
            return ControlReplyBody.ok(w.setTaskEvents(true) ? "task events enabled" : "task events already enabled")
        case "disable_events":
            return ControlReplyBody.ok(w.setTaskEvents(false) ? "task events disabled" : "task events already disabled")
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
            guard await w.addConsumer(queue) else { return ControlReplyBody.ok("already consuming from \(PythonRepr.stringRepr(queue))") }
            w.logger.info("Started consuming from \(queue)")
            return ControlReplyBody.ok("add consumer \(queue)")
        case "cancel_consumer":
            guard let queue = args["queue"]?.stringValue else { return ControlReplyBody.error("missing queue") }
            w.cancelConsumer(queue)
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
        w.addRevoked(unique)
        w.saveRevoked()
        // Celery 5.7 marks every id that is not running here and has no ready state as REVOKED
        // in the backend right away, even ids this worker never saw.
        for id in unique where !w.isRunning(id) {
            await w.markRevokedInBackend(id)
        }
        if args["terminate"]?.boolValue == true {
            let signum = Self.signalNumber(args["signal"]?.stringValue)
            let terminated = w.terminate(unique, signum: signum)
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
        let figures = w.statsSnapshot()
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
        let total = JSONObject(figures.total.sorted { $0.key < $1.key }.map { JSONMember($0.key, .int($0.value)) })
        return ControlReplyBody.stats(total: total, pid: Int(ProcessInfo.processInfo.processIdentifier), clock: w.nextClock(),
                                      uptime: Int(Date().timeIntervalSince(figures.startedAt)), pool: figures.pool, broker: broker,
                                      prefetchCount: w.settings.prefetchMultiplier * figures.concurrency, rusage: rusageObject)
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
            "worker_send_task_events": .bool(worker.taskEventsEnabled),
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
