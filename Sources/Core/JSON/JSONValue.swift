/// A JSON value as it travels on the Celery wire.
///
/// Unlike Foundation's JSON types it keeps integers, integers too big for `Int`, and doubles
/// apart (Python's `2.0` stays a float and `2**70` stays exact), and objects keep their key
/// order (``JSONObject``), so a message re-encoded by ``JSONWriter`` matches what Python wrote.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case int(Int)
    /// An integer outside `Int`'s range, kept as its decimal text (optional leading `-`).
    case bigInt(String)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
}

extension JSONValue {
    public var isNull: Bool { if case .null = self { true } else { false } }

    public var stringValue: String? { if case .string(let s) = self { s } else { nil } }

    public var boolValue: Bool? { if case .bool(let b) = self { b } else { nil } }

    /// The value as an `Int` when it is an integer (never a bool, never a double).
    public var intValue: Int? { if case .int(let i) = self { i } else { nil } }

    /// The value as a `Double` when it is a number of any kind.
    public var doubleValue: Double? {
        switch self {
        case .double(let d): d
        case .int(let i): Double(i)
        case .bigInt(let s): Double(s)
        default: nil
        }
    }

    public var arrayValue: [JSONValue]? { if case .array(let a) = self { a } else { nil } }

    public var objectValue: JSONObject? { if case .object(let o) = self { o } else { nil } }

    /// Member lookup on an object; `nil` for other values or a missing key.
    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { o[key] } else { nil }
    }
}

/// One `key: value` pair of a ``JSONObject``.
public struct JSONMember: Sendable, Hashable {
    public var key: String
    public var value: JSONValue

    public init(_ key: String, _ value: JSONValue) {
        self.key = key
        self.value = value
    }
}

/// A JSON object that keeps insertion order, as Python's `dict` does.
///
/// Celery's objects are small (a dozen headers at most), so a linear scan beats hashing here;
/// keeping the order matters because kwargs order is meaningful to Python and because
/// re-encoded messages should look like the ones Python sends.
public struct JSONObject: Sendable, Hashable, RandomAccessCollection, ExpressibleByDictionaryLiteral {
    public private(set) var members: [JSONMember]

    public init() { members = [] }

    public init(_ members: [JSONMember]) { self.members = members }

    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        members = []
        members.reserveCapacity(elements.count)
        for (k, v) in elements { self[k] = v }
    }

    public var startIndex: Int { members.startIndex }
    public var endIndex: Int { members.endIndex }
    public subscript(position: Int) -> JSONMember { members[position] }

    public var keys: [String] { members.map(\.key) }

    /// Reads a member; setting replaces in place (keeping its position) or appends,
    /// and setting `nil` removes the member.
    public subscript(key: String) -> JSONValue? {
        get {
            for m in members where m.key == key { return m.value }
            return nil
        }
        set {
            if let i = members.firstIndex(where: { $0.key == key }) {
                if let newValue { members[i].value = newValue } else { members.remove(at: i) }
            } else if let newValue {
                members.append(JSONMember(key, newValue))
            }
        }
    }

    /// Appends without looking for an existing key: for builders that know the key is new.
    public mutating func append(_ key: String, _ value: JSONValue) {
        members.append(JSONMember(key, value))
    }

    public mutating func reserveCapacity(_ n: Int) { members.reserveCapacity(n) }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByNilLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(nilLiteral: ()) { self = .null }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        var object = JSONObject()
        for (k, v) in elements { object[k] = v }
        self = .object(object)
    }
}
