/// Encodes any `Encodable` value into a ``JSONValue`` tree, ready for ``JSONWriter``.
///
/// Why not `JSONEncoder`: it loses key order (even for declared `CodingKeys`), drops the
/// float-ness of `2.0`, and is several times slower (see `shared/notes/json.md`). This encoder
/// keeps members in the order they are encoded, so a struct comes out in declaration order
/// when its synthesized `encode(to:)` runs. It writes:
/// - `encodeNil` as `null` (synthesized code uses `encodeIfPresent`, which skips `nil`; write
///   `try container.encodeNil(forKey:)` or encode the `Optional` itself to keep `"key": null`);
/// - every integer type as ``JSONValue/int(_:)``, or ``JSONValue/bigInt(_:)`` for a `UInt64`
///   above `Int.max`;
/// - `Double` as-is and `Float` through its shortest text (`0.1` stays `0.1`, not
///   `0.10000000149011612`);
/// - a nested ``JSONValue`` unchanged.
///
/// Nothing is special-cased: `Date` uses its own `Codable` (a `Double`), `Data` an array of bytes.
public struct JSONValueEncoder: Sendable {
    /// Context handed to the values' `encode(to:)` as `Encoder.userInfo`.
    public var userInfo: [CodingUserInfoKey: any Sendable] = [:]

    /// Creates an encoder.
    public init() {}

    /// Encodes `value` into a ``JSONValue``.
    ///
    /// - Parameter value: The value to encode.
    /// - Returns: The encoded tree.
    /// - Throws: `EncodingError.invalidValue` when `value` encodes nothing, or whatever its
    ///   `encode(to:)` throws.
    public func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        if let value = value as? JSONValue { return value }
        let encoder = JSONValueEncoding(codingPath: [], userInfo: userInfo)
        try value.encode(to: encoder)
        guard let node = encoder.node else {
            throw EncodingError.invalidValue(
                value, EncodingError.Context(codingPath: [], debugDescription: "Top-level \(T.self) did not encode any values."))
        }
        return node.resolved
    }
}

// MARK: - Implementation

/// A value under construction: finished, or a container that may still be added to.
enum EncodingNode {
    case value(JSONValue)
    case array(EncodingArray)
    case object(EncodingObject)
    /// A `superEncoder()` whose result is read when the tree is resolved.
    case encoder(JSONValueEncoding)

    var resolved: JSONValue {
        switch self {
        case .value(let v): v
        case .array(let a): .array(a.items.map(\.resolved))
        case .object(let o):
            .object(JSONObject(zip(o.keys, o.nodes).map { JSONMember($0, $1.resolved) }))
        case .encoder(let e): e.node?.resolved ?? .object(JSONObject())
        }
    }
}

/// An array being filled by an unkeyed container (a class: containers share it).
final class EncodingArray {
    var items: [EncodingNode] = []
}

/// An object being filled by keyed containers; re-encoding a key replaces its value in place.
final class EncodingObject {
    private(set) var keys: [String] = []
    private(set) var nodes: [EncodingNode] = []
    /// Built once the object is big enough that linear lookups would add up.
    private var index: [String: Int]?

    func set(_ key: String, _ node: EncodingNode) {
        if let p = position(of: key) {
            nodes[p] = node
        } else {
            index?[key] = keys.count
            keys.append(key)
            nodes.append(node)
        }
    }

    private func position(of key: String) -> Int? {
        if let index { return index[key] }
        if keys.count < 16 { return keys.firstIndex(of: key) }
        var built: [String: Int] = [:]
        built.reserveCapacity(keys.count * 2)
        for (n, k) in keys.enumerated() { built[k] = n }
        index = built
        return built[key]
    }
}

/// The `Encoder` handed to `encode(to:)`; it is also its own single-value container.
final class JSONValueEncoding: Encoder, SingleValueEncodingContainer {
    let codingPath: [any CodingKey]
    let sendableUserInfo: [CodingUserInfoKey: any Sendable]
    var node: EncodingNode?

    var userInfo: [CodingUserInfoKey: Any] { sendableUserInfo }

    init(codingPath: [any CodingKey], userInfo: [CodingUserInfoKey: any Sendable]) {
        self.codingPath = codingPath
        self.sendableUserInfo = userInfo
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        let object: EncodingObject
        if case .object(let existing)? = node {
            object = existing
        } else {
            object = EncodingObject()
            node = .object(object)
        }
        return KeyedEncodingContainer(JSONKeyedEncodingContainer<Key>(encoder: self, object: object, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        let array: EncodingArray
        if case .array(let existing)? = node {
            array = existing
        } else {
            array = EncodingArray()
            node = .array(array)
        }
        return JSONUnkeyedEncodingContainer(encoder: self, array: array, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { self }

    /// Encodes a nested value found at `path`.
    func wrap<T: Encodable>(_ value: T, at path: [any CodingKey]) throws -> EncodingNode {
        switch value {
        case let v as JSONValue: return .value(v)
        case let s as String: return .value(.string(s))
        case let i as Int: return .value(.int(i))
        case let d as Double: return .value(.double(d))
        case let b as Bool: return .value(.bool(b))
        default:
            let child = JSONValueEncoding(codingPath: path, userInfo: sendableUserInfo)
            try value.encode(to: child)
            return child.node ?? .object(EncodingObject())
        }
    }

    func superEncoder(at path: [any CodingKey]) -> JSONValueEncoding {
        JSONValueEncoding(codingPath: path, userInfo: sendableUserInfo)
    }

    // SingleValueEncodingContainer
    func encodeNil() { node = .value(.null) }
    func encode(_ value: Bool) { node = .value(.bool(value)) }
    func encode(_ value: String) { node = .value(.string(value)) }
    func encode(_ value: Double) { node = .value(.double(value)) }
    func encode(_ value: Float) { node = .value(jsonValue(value)) }
    func encode(_ value: Int) { node = .value(.int(value)) }
    func encode(_ value: Int8) { node = .value(jsonValue(value)) }
    func encode(_ value: Int16) { node = .value(jsonValue(value)) }
    func encode(_ value: Int32) { node = .value(jsonValue(value)) }
    func encode(_ value: Int64) { node = .value(jsonValue(value)) }
    func encode(_ value: UInt) { node = .value(jsonValue(value)) }
    func encode(_ value: UInt8) { node = .value(jsonValue(value)) }
    func encode(_ value: UInt16) { node = .value(jsonValue(value)) }
    func encode(_ value: UInt32) { node = .value(jsonValue(value)) }
    func encode(_ value: UInt64) { node = .value(jsonValue(value)) }
    func encode<T: Encodable>(_ value: T) throws { node = try wrap(value, at: codingPath) }
}

/// An integer as `.int`, or `.bigInt` when it does not fit `Int`.
func jsonValue<I: BinaryInteger>(_ value: I) -> JSONValue {
    if let i = Int(exactly: value) { .int(i) } else { .bigInt(String(value)) }
}

/// A `Float` as the double its shortest text denotes, so `0.1` stays `0.1`.
func jsonValue(_ value: Float) -> JSONValue {
    guard value.isFinite else { return .double(Double(value)) }
    return .double(Double(value.description) ?? Double(value))
}

struct JSONKeyedEncodingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: JSONValueEncoding
    let object: EncodingObject
    let codingPath: [any CodingKey]

    private func set(_ value: JSONValue, _ key: Key) { object.set(key.stringValue, .value(value)) }

    mutating func encodeNil(forKey key: Key) { set(.null, key) }
    mutating func encode(_ value: Bool, forKey key: Key) { set(.bool(value), key) }
    mutating func encode(_ value: String, forKey key: Key) { set(.string(value), key) }
    mutating func encode(_ value: Double, forKey key: Key) { set(.double(value), key) }
    mutating func encode(_ value: Float, forKey key: Key) { set(jsonValue(value), key) }
    mutating func encode(_ value: Int, forKey key: Key) { set(.int(value), key) }
    mutating func encode(_ value: Int8, forKey key: Key) { set(jsonValue(value), key) }
    mutating func encode(_ value: Int16, forKey key: Key) { set(jsonValue(value), key) }
    mutating func encode(_ value: Int32, forKey key: Key) { set(jsonValue(value), key) }
    mutating func encode(_ value: Int64, forKey key: Key) { set(jsonValue(value), key) }
    mutating func encode(_ value: UInt, forKey key: Key) { set(jsonValue(value), key) }
    mutating func encode(_ value: UInt8, forKey key: Key) { set(jsonValue(value), key) }
    mutating func encode(_ value: UInt16, forKey key: Key) { set(jsonValue(value), key) }
    mutating func encode(_ value: UInt32, forKey key: Key) { set(jsonValue(value), key) }
    mutating func encode(_ value: UInt64, forKey key: Key) { set(jsonValue(value), key) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        object.set(key.stringValue, try encoder.wrap(value, at: codingPath + [key]))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        let nested = EncodingObject()
        object.set(key.stringValue, .object(nested))
        return KeyedEncodingContainer(
            JSONKeyedEncodingContainer<NestedKey>(encoder: encoder, object: nested, codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let nested = EncodingArray()
        object.set(key.stringValue, .array(nested))
        return JSONUnkeyedEncodingContainer(encoder: encoder, array: nested, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder {
        let sub = encoder.superEncoder(at: codingPath + [JSONCodingKey.super])
        object.set(JSONCodingKey.super.stringValue, .encoder(sub))
        return sub
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let sub = encoder.superEncoder(at: codingPath + [key])
        object.set(key.stringValue, .encoder(sub))
        return sub
    }
}

struct JSONUnkeyedEncodingContainer: UnkeyedEncodingContainer {
    let encoder: JSONValueEncoding
    let array: EncodingArray
    let codingPath: [any CodingKey]

    var count: Int { array.items.count }

    private func append(_ value: JSONValue) { array.items.append(.value(value)) }

    mutating func encodeNil() { append(.null) }
    mutating func encode(_ value: Bool) { append(.bool(value)) }
    mutating func encode(_ value: String) { append(.string(value)) }
    mutating func encode(_ value: Double) { append(.double(value)) }
    mutating func encode(_ value: Float) { append(jsonValue(value)) }
    mutating func encode(_ value: Int) { append(.int(value)) }
    mutating func encode(_ value: Int8) { append(jsonValue(value)) }
    mutating func encode(_ value: Int16) { append(jsonValue(value)) }
    mutating func encode(_ value: Int32) { append(jsonValue(value)) }
    mutating func encode(_ value: Int64) { append(jsonValue(value)) }
    mutating func encode(_ value: UInt) { append(jsonValue(value)) }
    mutating func encode(_ value: UInt8) { append(jsonValue(value)) }
    mutating func encode(_ value: UInt16) { append(jsonValue(value)) }
    mutating func encode(_ value: UInt32) { append(jsonValue(value)) }
    mutating func encode(_ value: UInt64) { append(jsonValue(value)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        let node = try encoder.wrap(value, at: codingPath + [JSONCodingKey(index: count)])
        array.items.append(node)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let path = codingPath + [JSONCodingKey(index: count)]
        let nested = EncodingObject()
        array.items.append(.object(nested))
        return KeyedEncodingContainer(JSONKeyedEncodingContainer<NestedKey>(encoder: encoder, object: nested, codingPath: path))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let path = codingPath + [JSONCodingKey(index: count)]
        let nested = EncodingArray()
        array.items.append(.array(nested))
        return JSONUnkeyedEncodingContainer(encoder: encoder, array: nested, codingPath: path)
    }

    mutating func superEncoder() -> any Encoder {
        let sub = encoder.superEncoder(at: codingPath + [JSONCodingKey(index: count)])
        array.items.append(.encoder(sub))
        return sub
    }
}
