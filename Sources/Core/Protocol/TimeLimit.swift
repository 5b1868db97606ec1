/// A task's time limits, sent as the `timelimit` header `[hard, soft]`.
///
/// The order is the trap: `time_limit=30, soft_time_limit=20` travels as `[30, 20]`.
/// Seconds; `nil` means no limit (JSON `null`).
public struct TimeLimit: Sendable, Hashable {
    /// `time_limit`: the worker kills the task after this many seconds.
    public var hard: Double?
    /// `soft_time_limit`: the task is asked to stop (SoftTimeLimitExceeded) after this many seconds.
    public var soft: Double?

    public init(hard: Double? = nil, soft: Double? = nil) {
        self.hard = hard
        self.soft = soft
    }

    /// The wire form `[hard, soft]`. Integral values are written as JSON integers, as Python
    /// sends `time_limit=30` (a float limit such as `30.0` therefore comes back as `30`).
    public var jsonValue: JSONValue {
        .array([Self.number(hard), Self.number(soft)])
    }

    /// The limits a worker enforces: one that is not a positive, finite number of seconds (0,
    /// a negative, NaN, infinity) is no limit, as billiard treats a limit of 0. The header keeps
    /// what the client sent; only the waits read this.
    public var enforceable: TimeLimit {
        func limit(_ seconds: Double?) -> Double? {
            guard let seconds, seconds > 0, seconds.isFinite else { return nil }
            return seconds
        }
        return TimeLimit(hard: limit(hard), soft: limit(soft))
    }

    /// Reads `[hard, soft]`; `null` (or an absent header) means no limits.
    init(json: JSONValue?, field: String) throws(ProtocolError) {
        guard let json, !json.isNull else { return }
        guard case .array(let a) = json, a.count == 2 else {
            throw ProtocolError(.wrongType, "\(field): expected [hard, soft], got \(json.protocolTypeName)")
        }
        hard = try Self.seconds(a[0], field: field + "[0]")
        soft = try Self.seconds(a[1], field: field + "[1]")
    }

    private static func seconds(_ v: JSONValue, field: String) throws(ProtocolError) -> Double? {
        switch v {
        case .null: return nil
        case .int, .double, .bigInt: return v.doubleValue
        default: throw ProtocolError.wrongType(field, expected: "number or null", got: v)
        }
    }

    private static func number(_ d: Double?) -> JSONValue {
        guard let d else { return .null }
        if d == d.rounded(), abs(d) < 9e15 { return .int(Int(d)) }
        return .double(d)
    }
}
