/// Decodes any `Decodable` type from a ``JSONValue`` tree produced by ``JSONParser``.
///
/// Why not `JSONDecoder`: it is several times slower, cannot hold integers beyond 64 bits and,
/// on Linux, lets `1` pass as `true` (see `shared/notes/json.md`). This decoder is strict
/// where Python's types are distinct and lenient where Python is:
/// - a `Double` decodes from any number (`.int`, `.bigInt` or `.double`);
/// - an integer type decodes from `.int`, from `.bigInt` when it fits (e.g. a large `UInt64`),
///   and from a `.double` only when it is integral and fits; otherwise `DecodingError.dataCorrupted`;
/// - `Bool` decodes only from `true`/`false`, `String` only from strings;
/// - a ``JSONValue`` field receives its part of the tree unchanged.
///
/// Errors are the standard `DecodingError`s with the full coding path.
public struct JSONValueDecoder: Sendable {
    /// Context handed to the types' `init(from:)` as `Decoder.userInfo`.
    public var userInfo: [CodingUserInfoKey: any Sendable] = [:]

    /// Creates a decoder.
    public init() {}

    /// Decodes a value of the given type from `value`.
    ///
    /// - Parameters:
    ///   - type: The type to decode.
    ///   - value: The tree to decode from.
    /// - Returns: The decoded value.
    /// - Throws: `DecodingError` with the coding path of the first mismatch.
    public func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try JSONValueDecoding(value: value, codingPath: [], userInfo: userInfo).unbox(T.self, from: value, at: [])
    }
}

// MARK: - Implementation

/// The `Decoder` handed to `init(from:)`; it is also its own single-value container.
struct JSONValueDecoding: Decoder, SingleValueDecodingContainer {
    let value: JSONValue
    let codingPath: [any CodingKey]
    let sendableUserInfo: [CodingUserInfoKey: any Sendable]

    var userInfo: [CodingUserInfoKey: Any] { sendableUserInfo }

    init(value: JSONValue, codingPath: [any CodingKey], userInfo: [CodingUserInfoKey: any Sendable]) {
        self.value = value
        self.codingPath = codingPath
        self.sendableUserInfo = userInfo
    }

    func decoder(for value: JSONValue, at path: [any CodingKey]) -> JSONValueDecoding {
        JSONValueDecoding(value: value, codingPath: path, userInfo: sendableUserInfo)
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let object) = value else {
            throw mismatch([String: JSONValue].self, value, at: codingPath, container: "keyed decoding container")
        }
        return KeyedDecodingContainer(JSONKeyedDecodingContainer<Key>(decoder: self, object: object))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let items) = value else {
            throw mismatch([JSONValue].self, value, at: codingPath, container: "unkeyed decoding container")
        }
        return JSONUnkeyedDecodingContainer(decoder: self, items: items)
    }

    func singleValueContainer() -> any SingleValueDecodingContainer { self }

    // MARK: Unboxing (shared by all containers)

    func unbox<T: Decodable>(_ type: T.Type, from value: JSONValue, at path: [any CodingKey]) throws -> T {
        if T.self == JSONValue.self { return value as! T }  // hand the subtree over as is
        return try T(from: decoder(for: value, at: path))
    }

    func unboxBool(_ value: JSONValue, at path: [any CodingKey]) throws -> Bool {
        guard case .bool(let b) = value else { throw mismatch(Bool.self, value, at: path) }
        return b
    }

    func unboxString(_ value: JSONValue, at path: [any CodingKey]) throws -> String {
        guard case .string(let s) = value else { throw mismatch(String.self, value, at: path) }
        return s
    }

    func unboxDouble(_ value: JSONValue, at path: [any CodingKey]) throws -> Double {
        switch value {
        case .double(let d): return d
        case .int(let i): return Double(i)
        case .bigInt(let text):
            guard let d = Double(text) else { throw corrupted("Number \(text) is not a valid Double.", at: path) }
            return d
        default: throw mismatch(Double.self, value, at: path)
        }
    }

    func unboxFloat(_ value: JSONValue, at path: [any CodingKey]) throws -> Float {
        let d = try unboxDouble(value, at: path)
        let f = Float(d)
        guard f.isFinite || !d.isFinite else { throw corrupted("Number \(d) does not fit in Float.", at: path) }
        return f
    }

    func unboxInteger<I: FixedWidthInteger>(_ type: I.Type, _ value: JSONValue, at path: [any CodingKey]) throws -> I {
        switch value {
        case .int(let i):
            guard let v = I(exactly: i) else { throw corrupted("Number \(i) does not fit in \(I.self).", at: path) }
            return v
        case .bigInt(let text):
            guard let v = I(text, radix: 10) else { throw corrupted("Number \(text) does not fit in \(I.self).", at: path) }
            return v
        case .double(let d):
            guard let v = I(exactly: d) else {
                throw corrupted("Number \(PythonFloat.repr(d)) is not an integer that fits in \(I.self).", at: path)
            }
            return v
        default:
            throw mismatch(I.self, value, at: path)
        }
    }

    // MARK: SingleValueDecodingContainer

    func decodeNil() -> Bool { value == .null }
    func decode(_ type: Bool.Type) throws -> Bool { try unboxBool(value, at: codingPath) }
    func decode(_ type: String.Type) throws -> String { try unboxString(value, at: codingPath) }
    func decode(_ type: Double.Type) throws -> Double { try unboxDouble(value, at: codingPath) }
    func decode(_ type: Float.Type) throws -> Float { try unboxFloat(value, at: codingPath) }
    func decode(_ type: Int.Type) throws -> Int { try unboxInteger(type, value, at: codingPath) }
    func decode(_ type: Int8.Type) throws -> Int8 { try unboxInteger(type, value, at: codingPath) }
    func decode(_ type: Int16.Type) throws -> Int16 { try unboxInteger(type, value, at: codingPath) }
    func decode(_ type: Int32.Type) throws -> Int32 { try unboxInteger(type, value, at: codingPath) }
    func decode(_ type: Int64.Type) throws -> Int64 { try unboxInteger(type, value, at: codingPath) }
    func decode(_ type: UInt.Type) throws -> UInt { try unboxInteger(type, value, at: codingPath) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try unboxInteger(type, value, at: codingPath) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try unboxInteger(type, value, at: codingPath) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try unboxInteger(type, value, at: codingPath) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try unboxInteger(type, value, at: codingPath) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try unbox(type, from: value, at: codingPath) }
}

/// `valueNotFound` for `null`, `typeMismatch` for any other wrong kind of value.
private func mismatch(_ type: Any.Type, _ value: JSONValue, at path: [any CodingKey], container: String? = nil) -> DecodingError {
    if value == .null {
        let what = container.map { "Cannot get \($0) -- found null value instead." } ?? "Expected \(type) value but found null instead."
        return DecodingError.valueNotFound(type, DecodingError.Context(codingPath: path, debugDescription: what))
    }
    let found =
        switch value {
        case .null: "null"
        case .bool: "a bool"
        case .int, .bigInt, .double: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    return DecodingError.typeMismatch(
        type, DecodingError.Context(codingPath: path, debugDescription: "Expected to decode \(type) but found \(found) instead."))
}

private func corrupted(_ message: String, at path: [any CodingKey]) -> DecodingError {
    DecodingError.dataCorrupted(DecodingError.Context(codingPath: path, debugDescription: message))
}

struct JSONKeyedDecodingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: JSONValueDecoding
    let object: JSONObject
    /// For big objects (decoded `[String: T]`), so lookups stay O(1).
    private let index: [String: Int]?

    init(decoder: JSONValueDecoding, object: JSONObject) {
        self.decoder = decoder
        self.object = object
        if object.count > 16 {
            var index: [String: Int] = [:]
            index.reserveCapacity(object.count)
            for (n, member) in object.members.enumerated() { index[member.key] = n }
            self.index = index
        } else {
            index = nil
        }
    }

    var codingPath: [any CodingKey] { decoder.codingPath }

    var allKeys: [Key] { object.members.compactMap { Key(stringValue: $0.key) } }

    private func lookup(_ key: Key) -> JSONValue? {
        if let index { return index[key.stringValue].map { object.members[$0].value } }
        return object[key.stringValue]
    }

    func contains(_ key: Key) -> Bool { lookup(key) != nil }

    private func value(for key: Key) throws -> JSONValue {
        guard let value = lookup(key) else {
            throw DecodingError.keyNotFound(
                key,
                DecodingError.Context(
                    codingPath: codingPath, debugDescription: "No value associated with key \"\(key.stringValue)\"."))
        }
        return value
    }

    private func path(_ key: some CodingKey) -> [any CodingKey] { codingPath + [key] }

    func decodeNil(forKey key: Key) throws -> Bool { try value(for: key) == .null }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try decoder.unboxBool(value(for: key), at: path(key)) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String {
        try decoder.unboxString(value(for: key), at: path(key))
    }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
        try decoder.unboxDouble(value(for: key), at: path(key))
    }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try decoder.unboxFloat(value(for: key), at: path(key)) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try integer(type, key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try integer(type, key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try integer(type, key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try integer(type, key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try integer(type, key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try integer(type, key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try integer(type, key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try integer(type, key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try integer(type, key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try integer(type, key) }

    private func integer<I: FixedWidthInteger>(_ type: I.Type, _ key: Key) throws -> I {
        try decoder.unboxInteger(type, value(for: key), at: path(key))
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try decoder.unbox(type, from: value(for: key), at: path(key))
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type, forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try decoder.decoder(for: value(for: key), at: path(key)).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try decoder.decoder(for: value(for: key), at: path(key)).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        decoder.decoder(for: object[JSONCodingKey.super.stringValue] ?? .null, at: path(JSONCodingKey.super))
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        decoder.decoder(for: lookup(key) ?? .null, at: path(key))
    }
}

struct JSONUnkeyedDecodingContainer: UnkeyedDecodingContainer {
    let decoder: JSONValueDecoding
    let items: [JSONValue]
    private(set) var currentIndex = 0

    init(decoder: JSONValueDecoding, items: [JSONValue]) {
        self.decoder = decoder
        self.items = items
    }

    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    private var currentPath: [any CodingKey] { codingPath + [JSONCodingKey(index: currentIndex)] }

    /// The next element; the index only moves once it has been decoded successfully.
    private func next(_ type: Any.Type) throws -> JSONValue {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                type, DecodingError.Context(codingPath: currentPath, debugDescription: "Unkeyed container is at end."))
        }
        return items[currentIndex]
    }

    private mutating func take<T>(_ type: T.Type, _ unbox: (JSONValue, [any CodingKey]) throws -> T) throws -> T {
        let result = try unbox(try next(type), currentPath)
        currentIndex += 1
        return result
    }

    mutating func decodeNil() throws -> Bool {
        guard try next(Never?.self) == .null else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try take(type, decoder.unboxBool) }
    mutating func decode(_ type: String.Type) throws -> String { try take(type, decoder.unboxString) }
    mutating func decode(_ type: Double.Type) throws -> Double { try take(type, decoder.unboxDouble) }
    mutating func decode(_ type: Float.Type) throws -> Float { try take(type, decoder.unboxFloat) }
    mutating func decode(_ type: Int.Type) throws -> Int { try integer(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }

    private mutating func integer<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
        let decoder = decoder
        return try take(type) { try decoder.unboxInteger(type, $0, at: $1) }
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let decoder = decoder
        return try take(type) { try decoder.unbox(type, from: $0, at: $1) }
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let decoder = decoder
        return try take(KeyedDecodingContainer<NestedKey>.self) { try decoder.decoder(for: $0, at: $1).container(keyedBy: type) }
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let decoder = decoder
        return try take((any UnkeyedDecodingContainer).self) { try decoder.decoder(for: $0, at: $1).unkeyedContainer() }
    }

    mutating func superDecoder() throws -> any Decoder {
        let decoder = decoder
        return try take((any Decoder).self) { decoder.decoder(for: $0, at: $1) }
    }
}
