/// Stores and reads task results in Redis as Celery's Redis result backend does.
///
/// A result is the JSON meta at `celery-task-meta-<id>`, written with SETEX and PUBLISHed on a
/// channel of the same name inside one MULTI/EXEC, so a waiting client (subscribed to that
/// channel) and a late reader (GET) both see it.
public final class RedisResultBackend: Sendable {
    public let client: RedisClient
    /// Seconds a result lives (`result_expires`).
    public let expires: Int

    public init(client: RedisClient, expires: Int) {
        self.client = client
        self.expires = expires
    }

    /// The key, and pub/sub channel, of a task's result.
    public static func key(for taskID: String) -> String { QueueKeys.resultKey(taskID: taskID) }

    /// The commands that store `meta`; run them inside one transaction.
    public func storeCommands(_ meta: ResultMeta) -> [RedisCommand] {
        let key = Self.key(for: meta.taskID)
        let json = meta.encoded()
        return [RedisCommand("SETEX", key, expires, json), RedisCommand("PUBLISH", key, json)]
    }

    /// Stores `meta` and notifies waiting clients.
    public func store(_ meta: ResultMeta) async throws(RedisError) {
        _ = try await client.transaction(storeCommands(meta))
    }

    /// The stored meta of `taskID`, or `nil` while it is unknown (Celery's PENDING).
    /// - Throws: ``RedisError``, or ``ProtocolError`` if the stored value is not a result.
    public func meta(for taskID: String) async throws -> ResultMeta? {
        let reply = try await client.send(RedisCommand("GET", Self.key(for: taskID)))
        guard let bytes = reply.bytes else { return nil }
        return try ResultMeta.decode(bytes)
    }

    /// Reads the stored meta of `taskID` without waiting: `completion` runs on the client's
    /// connection thread with the meta (`nil` while unknown) or the error.
    func meta(for taskID: String, completion: @escaping @Sendable (Result<ResultMeta?, any Error>) -> Void) {
        client.send(RedisCommand("GET", Self.key(for: taskID))) { reply in
            completion(Result {
                guard let bytes = try reply.get().bytes else { return nil }
                return try ResultMeta.decode(bytes)
            })
        }
    }
}
