public import Foundation

/// Keeps the original message of each failed task for a while, so an operator can retry it
/// exactly (same name, args, kwargs, options) instead of guessing arguments from a truncated repr.
///
/// Celeriac workers write `celeriac.failed.<task id>` (the raw envelope, with a TTL) and index it
/// in the sorted set `celeriac.failed_index` (score: failure time), trimmed to the newest
/// ``maxEntries``. Python workers keep nothing of the kind; for their failures a retry is possible
/// only when `result_extended` stored the name and arguments with the result.
public enum FailedTaskStore {
    /// How long an original message is kept: 7 days.
    public static let defaultTTL = 604_800
    /// How many failures are indexed at most.
    public static let maxEntries = 10_000
    public static let indexKey = "celeriac.failed_index"

    public static func messageKey(taskID: String) -> String { "celeriac.failed." + taskID }
    /// Where the id of the retry of `taskID` is recorded (and the reverse link lives in its headers).
    public static func retriedAsKey(taskID: String) -> String { "celeriac.retried." + taskID }
    /// The header a retry carries naming the failed task it re-sends.
    public static let retryOfHeader = "celeriac_retry_of"

    /// The commands a worker runs when `taskID` fails: keep the raw message and index it.
    public static func recordCommands(taskID: String, rawMessage: [UInt8], now: Date = Date(), ttl: Int = defaultTTL) -> [RedisCommand] {
        [
            RedisCommand("SETEX", messageKey(taskID: taskID), ttl, rawMessage),
            RedisCommand("ZADD", indexKey, now.timeIntervalSince1970, taskID),
            RedisCommand("ZREMRANGEBYRANK", indexKey, 0, -(maxEntries + 1)),
        ]
    }

    /// Why a failed task cannot be retried.
    public struct Unavailable: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// Re-sends a failed task as a new task (new id) with the original name, arguments and options,
    /// linked to the failure both ways (a header on the new message, a key for the old id).
    ///
    /// - Returns: the new task's id.
    /// - Throws: ``Unavailable`` when neither the original message nor extended result fields exist.
    public static func retry(taskID: String, broker: RedisBroker, backend: RedisResultBackend?, origin: String, ttl: Int = defaultTTL) async throws -> String {
        let newID = UUID().uuidString.lowercased()
        var message: TaskMessage
        if let raw = try await broker.client.send(RedisCommand("GET", messageKey(taskID: taskID))).bytes {
            message = try TaskMessage.decode(bytes: raw)
            message.reissue(id: newID, deliveryTag: UUID().uuidString.lowercased(), origin: origin)
        } else if let meta = try await backend?.meta(for: taskID), let extended = meta.extended, let name = extended.name {
            let args = extended.args.arrayValue ?? []
            let kwargs = extended.kwargs.objectValue ?? [:]
            var options = TaskSendOptions(taskID: newID)
            options.queue = extended.queue
            message = TaskMessage.make(name: name, args: args, kwargs: kwargs, options: options, origin: origin, now: Date(),
                                       newID: { UUID().uuidString.lowercased() })
        } else {
            throw Unavailable(description: "retry of \(taskID) is unavailable: its original message was not kept (not a Celeriac worker, or older than 7 days) and the result has no stored arguments (enable result_extended on Python workers)")
        }
        message.extraHeaders[retryOfHeader] = .string(taskID)
        try await broker.publish(message)
        _ = try await broker.client.send(RedisCommand("SETEX", retriedAsKey(taskID: taskID), ttl, newID))
        return newID
    }
}

extension TaskMessage {
    /// Turns a copy of a message into a fresh task: new id (also correlation and root id when the
    /// message was its own root), new delivery tag, no ETA or expiry, retries 0, not redelivered.
    mutating func reissue(id newID: String, deliveryTag: String, origin newOrigin: String) {
        if rootID == id || rootID == nil { rootID = newID }
        id = newID
        correlationID = newID
        self.deliveryTag = deliveryTag
        eta = nil
        expires = nil
        expiration = nil
        retries = 0
        redelivered = false
        extraHeaders["redelivered"] = nil
        origin = newOrigin
    }
}
