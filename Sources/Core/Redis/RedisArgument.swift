/// A value that can be sent as one argument of a ``RedisCommand``.
///
/// Redis arguments are byte strings; numbers travel as their decimal text.
public protocol RedisArgument: Sendable {
    /// The argument as sent on the wire.
    var redisBytes: [UInt8] { get }
}

extension String: RedisArgument {
    public var redisBytes: [UInt8] { Array(utf8) }
}

extension Substring: RedisArgument {
    public var redisBytes: [UInt8] { Array(utf8) }
}

extension Array: RedisArgument where Element == UInt8 {
    public var redisBytes: [UInt8] { self }
}

extension Int: RedisArgument {
    public var redisBytes: [UInt8] { Array(description.utf8) }
}

extension Double: RedisArgument {
    /// Swift's shortest round-tripping text; `inf`/`-inf` are what Redis expects for scores.
    public var redisBytes: [UInt8] { Array(description.utf8) }
}
