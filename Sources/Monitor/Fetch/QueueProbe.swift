public import Celeriac

/// The Redis commands that measure queues, and the reading of their replies: pure, so the
/// key names and reply shapes are tested without a server.
///
/// Kombu has no registry of queues; a queue exists as far as anyone can tell when an exchange
/// routes to it, i.e. when a member of some `_kombu.binding.<exchange>` set names it
/// (`routing_key SEP pattern SEP queue`). Internal exchanges are skipped: the pidbox
/// (remote control) and its replies, and `celeryev` (Python event receivers' queues).
public enum QueueProbe {
    /// The `SCAN` pattern of every binding set.
    public static let bindingPattern = "_kombu.binding.*"

    /// Whether a binding set belongs to an exchange whose queues are not task queues.
    ///
    /// - Parameter key: A key matching ``bindingPattern``.
    public static func isInternalBinding(_ key: String) -> Bool {
        let exchange = key.dropFirst("_kombu.binding.".count)
        return exchange.hasSuffix(".pidbox") || exchange.hasPrefix("reply.") || exchange == "celeryev"
            || exchange.hasPrefix("celeryev.")
    }

    /// The queue names named by `SMEMBERS` replies of binding sets.
    ///
    /// - Parameter replies: One `SMEMBERS` reply per binding set.
    /// - Returns: The queue parts of every well-formed member.
    public static func queueNames(fromMembers replies: [RedisReply]) -> Set<String> {
        var names = Set<String>()
        for reply in replies {
            for member in reply.array ?? [] {
                if let text = member.string, let parsed = QueueKeys.parseBindingMember(text), !parsed.queue.isEmpty {
                    names.insert(parsed.queue)
                }
            }
        }
        return names
    }

    /// Commands per queue in ``depthCommands(queues:)``.
    public static let commandsPerQueue = QueueKeys.prioritySteps.count * 2

    /// For each queue: `LLEN` of its four priority lists, then `LINDEX … -1` of each (the
    /// message the next `BRPOP` takes from that list), so depth and next message come back in
    /// one round trip whatever the depths are.
    ///
    /// - Parameter queues: Queue names.
    public static func depthCommands(queues: [String]) -> [RedisCommand] {
        var commands: [RedisCommand] = []
        commands.reserveCapacity(queues.count * commandsPerQueue)
        for queue in queues {
            for step in QueueKeys.prioritySteps {
                commands.append(RedisCommand("LLEN", QueueKeys.list(queue: queue, priority: step)))
            }
            for step in QueueKeys.prioritySteps {
                commands.append(RedisCommand("LINDEX", QueueKeys.list(queue: queue, priority: step), -1))
            }
        }
        return commands
    }

    /// Reads the replies of ``depthCommands(queues:)``.
    ///
    /// - Parameters:
    ///   - replies: The replies, in order.
    ///   - queues: The queue names the commands were built for.
    ///   - sampledAt: Local time of the poll.
    /// - Returns: One sample per queue; a queue whose replies are missing or errors has depth 0.
    ///   The oldest task id is that of the first non-empty list in consume order (step 0 first).
    public static func samples(from replies: [RedisReply], queues: [String], sampledAt: Double) -> [QueueSample] {
        let steps = QueueKeys.prioritySteps
        return queues.enumerated().map { i, queue in
            let base = i * commandsPerQueue
            var depths: [QueueSample.PriorityDepth] = []
            var oldest: String?
            for (j, step) in steps.enumerated() {
                let depth = base + j < replies.count ? replies[base + j].int ?? 0 : 0
                depths.append(.init(priority: step, depth: depth))
                let k = base + steps.count + j
                if oldest == nil, depth > 0, k < replies.count, let body = replies[k].bytes {
                    oldest = taskID(ofMessage: body)
                }
            }
            return QueueSample(name: queue, depths: depths, sampledAt: sampledAt, oldestTaskID: oldest)
        }
    }

    /// The task id of a kombu message on a queue list (its `headers.id`, protocol v2); `nil`
    /// for anything else.
    ///
    /// - Parameter message: The list element's bytes.
    public static func taskID(ofMessage message: [UInt8]) -> String? {
        guard let envelope = try? JSONParser.parse(message) else { return nil }
        return envelope["headers"]?["id"]?.stringValue
    }
}
