/// One RESP2 reply, copied out of hiredis' C structure before it is freed.
///
/// Bulk strings stay bytes because Celery payloads are arbitrary binary; the accessors decode
/// on demand.
public enum RedisReply: Sendable, Hashable {
    /// A simple string such as `+OK` or `+QUEUED`.
    case status(String)
    /// An error reply such as `-ERR unknown command`.
    case error(String)
    /// An integer reply.
    case integer(Int)
    /// A bulk string, binary-safe.
    case bulk([UInt8])
    /// A nil bulk string or nil array (missing key, BRPOP timeout, aborted EXEC).
    case null
    /// An array (multi-bulk) reply.
    case array([RedisReply])
}

extension RedisReply {
    /// A bulk or status reply decoded as UTF-8 (invalid sequences are replaced); otherwise `nil`.
    public var string: String? {
        switch self {
        case .bulk(let bytes): String(decoding: bytes, as: UTF8.self)
        case .status(let s): s
        default: nil
        }
    }

    /// A bulk reply's bytes, or a status reply's UTF-8 bytes; otherwise `nil`.
    public var bytes: [UInt8]? {
        switch self {
        case .bulk(let bytes): bytes
        case .status(let s): Array(s.utf8)
        default: nil
        }
    }

    /// An integer reply, or a bulk/status reply that is entirely a decimal integer (Redis
    /// returns counters read with GET as bulk strings).
    public var int: Int? {
        switch self {
        case .integer(let i): i
        case .bulk(let bytes): Int(String(decoding: bytes, as: UTF8.self))
        case .status(let s): Int(s)
        default: nil
        }
    }

    /// The elements of an array reply; otherwise `nil`.
    public var array: [RedisReply]? {
        if case .array(let elements) = self { elements } else { nil }
    }

    /// Whether this is the nil reply.
    public var isNull: Bool {
        if case .null = self { true } else { false }
    }

    /// The message of an error reply; otherwise `nil`.
    public var errorMessage: String? {
        if case .error(let message) = self { message } else { nil }
    }
}
