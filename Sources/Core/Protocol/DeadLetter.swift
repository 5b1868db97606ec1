public import Foundation

/// A message the worker could not decode or handle, parked for a human instead of retried.
///
/// Stored as JSON `{"reason", "queue", "time", "worker", "message"}` in the Redis list
/// ``listKey``. Python Celery has no such list; it is Celeriac's own, so a poison message
/// never loops and is never silently dropped. `message` holds the raw bytes as text
/// (invalid UTF-8 replaced), which is what an operator needs to inspect or re-push it.
public struct DeadLetter: Sendable, Hashable {
    /// The Redis list dead letters are pushed to.
    public static let listKey = "celeriac.dead_letter"

    /// Why the message was parked, e.g. a ``ProtocolError/description``.
    public var reason: String
    /// The queue key it was popped from.
    public var queue: String
    /// When it was parked.
    public var time: Date
    /// The worker's node name.
    public var worker: String
    /// The raw message, lossy UTF-8.
    public var message: String

    public init(reason: String, queue: String, time: Date, worker: String, message: String) {
        self.reason = reason
        self.queue = queue
        self.time = time
        self.worker = worker
        self.message = message
    }

    /// A dead letter for raw message bytes (invalid UTF-8 becomes U+FFFD).
    public init(reason: String, queue: String, time: Date, worker: String, rawMessage: [UInt8]) {
        self.init(reason: reason, queue: queue, time: time, worker: worker,
            message: String(decoding: rawMessage, as: UTF8.self))
    }

    public var jsonValue: JSONValue {
        .object([
            "reason": .string(reason), "queue": .string(queue), "time": .string(CeleryDate.format(time)),
            "worker": .string(worker), "message": .string(message),
        ])
    }

    /// The JSON bytes to `LPUSH` to ``listKey``.
    public func encoded() -> [UInt8] { jsonValue.serialized() }

    /// Reads a dead-letter record.
    /// - Throws: ``ProtocolError`` for bad JSON or missing/mistyped fields.
    public static func decode(_ bytes: [UInt8]) throws(ProtocolError) -> DeadLetter {
        let value = try JSONParser.parseForProtocol(bytes, what: "dead letter")
        guard case .object(let o) = value else {
            throw ProtocolError.wrongType("dead letter", expected: "object", got: value)
        }
        let r = FieldReader(o, path: "")
        guard let time = try r.date("time") else { throw .missing("time") }
        return DeadLetter(
            reason: try r.requiredString("reason"), queue: try r.requiredString("queue"), time: time,
            worker: try r.requiredString("worker"), message: try r.requiredString("message"))
    }
}
