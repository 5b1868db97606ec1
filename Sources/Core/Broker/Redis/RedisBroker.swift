import Synchronization

/// Publishes task messages to Redis the way kombu's Redis transport does.
///
/// A queue is declared once per process (LLEN of its four priority lists inside MULTI, then
/// SADD of its binding to `_kombu.binding.<queue>` and `_kombu.binding_permanent.<queue>`), then
/// each message is LPUSHed to the list for its priority step. Python workers consume these
/// lists unchanged.
public final class RedisBroker: Sendable {
    public let client: RedisClient
    private let declared = Mutex<Set<String>>([])

    public init(client: RedisClient) { self.client = client }

    /// The commands that declare `queue` as kombu does, for callers that batch them.
    public static func declareCommands(queue: String) -> [[RedisCommand]] {
        let lists = [0, 3, 6, 9].map { RedisCommand("LLEN", QueueKeys.list(queue: queue, priority: $0)) }
        let member = QueueKeys.bindingMember(routingKey: queue, pattern: "", queue: queue)
        let bindings = [
            RedisCommand("SADD", "_kombu.binding.\(queue)", member),
            RedisCommand("SADD", "_kombu.binding_permanent.\(queue)", member),
        ]
        return [lists, bindings]
    }

    /// Declares `queue` unless this process already did.
    public func declare(queue: String) async throws(RedisError) {
        let isNew = declared.withLock { $0.insert(queue).inserted }
        guard isNew else { return }
        do {
            for transaction in Self.declareCommands(queue: queue) {
                _ = try await client.transaction(transaction)
            }
        } catch {
            _ = declared.withLock { $0.remove(queue) }
            throw error
        }
    }

    /// Declares the message's queue if needed and LPUSHes the message to its priority list.
    public func publish(_ message: TaskMessage) async throws(RedisError) {
        try await declare(queue: message.routingKey)
        _ = try await client.send(Self.publishCommand(message))
    }

    /// The LPUSH for `message`, for callers that pipeline many.
    public static func publishCommand(_ message: TaskMessage) -> RedisCommand {
        RedisCommand("LPUSH", message.listKey, TaskMessageWriter.encode(message))
    }

    /// The LPUSH for `message`, encoded by a ``TaskMessageWriter`` the caller reuses across a batch.
    static func publishCommand(_ message: TaskMessage, writer: inout TaskMessageWriter) -> RedisCommand {
        RedisCommand("LPUSH", message.listKey, writer.encode(message))
    }
}
