public import Celeriac
import Synchronization

/// Reads stored results (`celery-task-meta-<id>`) for the monitor: group ids and children that
/// task events do not carry (see ``ClusterState/noteResults(_:requested:)``).
public protocol ResultMetaReader: Sendable {
    /// The stored results of `ids` that exist and decode; missing or unreadable ones are left out.
    ///
    /// - Parameter ids: Task ids.
    /// - Throws: When the backend cannot be reached.
    func read(ids: [String]) async throws -> [ResultMeta]
}

/// Reads results from a Redis result backend in one pipelined `GET` per request.
public struct RedisResultMetaReader: ResultMetaReader {
    /// The result backend's connection.
    public let client: RedisClient

    /// Creates a reader.
    ///
    /// - Parameter client: The result backend's connection (the broker's when they are one).
    public init(client: RedisClient) { self.client = client }

    public func read(ids: [String]) async throws -> [ResultMeta] {
        guard !ids.isEmpty else { return [] }
        let replies = try await client.pipeline(ids.map { RedisCommand("GET", "celery-task-meta-\($0)") })
        return replies.compactMap { reply in reply.bytes.flatMap { try? ResultMeta.decode($0) } }
    }
}

/// Where results read for the loop wait for it, as ``ActionInbox`` holds action outcomes.
final class ResultInbox: Sendable {
    private let batches = Mutex<[(metas: [ResultMeta], requested: [String], failure: String?)]>([])

    func post(_ metas: [ResultMeta], requested: [String], failure: String?) {
        batches.withLock { $0.append((metas, requested, failure)) }
    }

    func drain() -> [(metas: [ResultMeta], requested: [String], failure: String?)] {
        batches.withLock { b in defer { b = [] }; return b }
    }
}
