public import Celeriac
public import CeleriacTestSupport

/// What is left of a drain: messages still queued, messages held by workers (kombu's
/// `unacked` hash), and results stored so far.
public struct DrainProgress: Sendable, Hashable {
    /// Messages on the queue's lists (every priority).
    public var queued: Int
    /// Entries in kombu's `unacked` hash: delivered, not yet acked.
    public var unacked: Int
    /// Keys in the result database (`nil` when results are off).
    public var results: Int?

    public init(queued: Int, unacked: Int, results: Int?) {
        self.queued = queued
        self.unacked = unacked
        self.results = results
    }

    /// Whether the drain is over: nothing queued, nothing held, and with results on at least
    /// `expectedResults` results stored.
    public func isDone(expectedResults: Int) -> Bool {
        queued == 0 && unacked == 0 && (results ?? expectedResults) >= expectedResults
    }
}

/// Polls a drain's progress with one pipelined round trip per poll, and counts what it sent so
/// the Redis command statistics of a run can leave it out.
///
/// Results are expected in their own database (the benchmark points result backends at db 1,
/// the broker at db 0), so `DBSIZE` counts them without scanning.
public struct DrainWatch: Sendable {
    let broker: RedisClient
    let results: RedisClient?
    let queue: String
    /// Polls made so far.
    public private(set) var polls = 0

    /// - Parameters:
    ///   - broker: A connection to the broker's database.
    ///   - results: A connection to the result database, or `nil` when results are off.
    ///   - queue: The queue being drained.
    public init(broker: RedisClient, results: RedisClient?, queue: String) {
        self.broker = broker
        self.results = results
        self.queue = queue
    }

    /// The current progress.
    public mutating func poll() async throws -> DrainProgress {
        polls += 1
        var commands = QueueKeys.prioritySteps.map { RedisCommand("LLEN", QueueKeys.list(queue: queue, priority: $0)) }
        commands.append(RedisCommand("HLEN", QueueKeys.unacked))
        let replies = try await broker.pipeline(commands)
        let queued = replies.dropLast().reduce(0) { $0 + ($1.int ?? 0) }
        let unacked = replies.last?.int ?? 0
        var stored: Int?
        if let results { stored = try await results.send(RedisCommand("DBSIZE")).int ?? 0 }
        return DrainProgress(queued: queued, unacked: unacked, results: stored)
    }

    /// The commands this watch has sent, to subtract from a run's `INFO commandstats`.
    public var ownCommands: CommandStats {
        var calls = ["llen": polls * QueueKeys.prioritySteps.count, "hlen": polls]
        if results != nil { calls["dbsize"] = polls }
        return CommandStats(calls: calls)
    }

    /// Round trips this watch has made (one or two per poll), to subtract from Redis's read count.
    public var ownRoundTrips: Int { polls * (results == nil ? 1 : 2) }
}
