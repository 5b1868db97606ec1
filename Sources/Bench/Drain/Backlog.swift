public import Celeriac
import Foundation

/// Puts a backlog of real task messages on a queue so that workers see all of it at once.
///
/// The messages are pre-encoded (what ``Celeriac/CeleriacClient/send(_:args:kwargs:options:)``
/// publishes, protocol v2, so Swift and Python workers take the same bytes), pushed onto a
/// *staging* list with pipelined multi-value `LPUSH`, then ``release(staging:queue:client:)``
/// `RENAME`s the staging list onto the queue's list: one atomic command, which wakes a worker
/// blocked in `BRPOP` (checked by `BacklogTests`). So loading time is never part of a drain.
public enum Backlog {
    /// The messages pushed per `LPUSH`.
    static let valuesPerPush = 500
    /// Bytes sent before waiting for replies, so large payloads do not pile up in memory.
    static let bytesPerRoundTrip = 16 << 20

    /// One encoded message: `task` with no arguments, or with one string argument of
    /// `payloadBytes` bytes.
    public static func message(task: String, payloadBytes: Int = 0, queue: String) -> [UInt8] {
        var options = TaskSendOptions()
        options.queue = queue
        let args: [JSONValue] = payloadBytes > 0 ? [.string(String(repeating: "x", count: payloadBytes))] : []
        return TaskMessage.make(
            name: task, args: args, options: options, origin: "qbench@localhost", now: Date(),
            newID: { UUID().uuidString.lowercased() }
        ).encoded()
    }

    /// Pushes `count` messages made by `make` onto `staging` (deleted first), in order: the
    /// first made is the first a worker pops.
    ///
    /// - Parameters:
    ///   - count: Messages to push.
    ///   - staging: A list no worker watches.
    ///   - client: A connection to the broker's database.
    ///   - make: The encoded message for each index; called once per message, in order.
    public static func stage(
        count: Int, staging: String, client: RedisClient, make: (Int) -> [UInt8]
    ) async throws {
        _ = try await client.send(RedisCommand("DEL", staging))
        var commands: [RedisCommand] = []
        var values: [[UInt8]] = []
        var pendingBytes = 0
        func flushPush() {
            guard !values.isEmpty else { return }
            commands.append(RedisCommand(arguments: [Array("LPUSH".utf8), Array(staging.utf8)] + values))
            values.removeAll(keepingCapacity: true)
        }
        for i in 0..<count {
            let m = make(i)
            pendingBytes += m.count
            values.append(m)
            if values.count == valuesPerPush { flushPush() }
            if pendingBytes >= bytesPerRoundTrip {
                flushPush()
                try await send(commands, client: client)
                commands.removeAll(keepingCapacity: true)
                pendingBytes = 0
            }
        }
        flushPush()
        try await send(commands, client: client)
    }

    /// Moves the staging list onto the queue's list in one command (the queue's list must be
    /// empty: `RENAME` replaces it).
    public static func release(staging: String, queue: String, client: RedisClient) async throws {
        let reply = try await client.send(RedisCommand("RENAME", staging, QueueKeys.list(queue: queue, priority: 0)))
        if let error = reply.errorMessage { throw BenchError("RENAME \(staging) failed: \(error)") }
    }

    private static func send(_ commands: [RedisCommand], client: RedisClient) async throws {
        guard !commands.isEmpty else { return }
        for reply in try await client.pipeline(commands) {
            if let error = reply.errorMessage { throw BenchError("LPUSH failed: \(error)") }
        }
    }
}
