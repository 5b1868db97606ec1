/// Reads a `Decodable` type's top-level coding keys, in the order its `init(from:)` asks for
/// them, without an instance: the type is decoded once from placeholder values while the keys
/// are recorded (see ``TaskParameters/init(of:)``).
///
/// A key first seen through `contains` (what `decodeIfPresent`, hence an `Optional` property,
/// asks) is a parameter with a default; `contains` answers `false`, so the type takes its
/// missing-value path and the probe never needs a value for it.
enum ParameterNameProbe {
    /// Deeper than this is a recursive type the placeholders cannot end.
    static let maxDepth = 32

    static func parameters<T: Decodable>(of type: T.Type) throws(TaskParametersError) -> TaskParameters {
        let recorder = KeyRecorder()
        do {
            _ = try T(from: ProbeDecoder(recorder: recorder, depth: 0, attempt: 0))
        } catch let failure as ProbeFailure {
            throw TaskParametersError(typeName: String(reflecting: T.self), reason: failure.reason)
        } catch {
            let reason = recorder.current.map { "the property for '\($0)' rejects every placeholder value (\(error))" }
                ?? "its init(from:) throws (\(error))"
            throw TaskParametersError(typeName: String(reflecting: T.self), reason: reason)
        }
        if recorder.readsKeysFromData {
            throw TaskParametersError(
                typeName: String(reflecting: T.self), reason: "it reads its keys from the data (a dictionary?), so it has no fixed names")
        }
        return TaskParameters(recorder.names, withDefaults: recorder.withDefaults)
    }

    /// Builds a placeholder value of any `Decodable` type below the top level: tries each set of
    /// placeholders in turn (an empty string is no valid UUID or URL, but the second set's are),
    /// then the first case of a `CaseIterable` type.
    static func placeholder<T: Decodable>(_ type: T.Type, depth: Int) throws -> T {
        guard depth < maxDepth else { throw ProbeFailure(reason: "it nests deeper than \(maxDepth) levels (a recursive type?)") }
        var lastError: any Error = ProbeFailure(reason: "no placeholder fits \(T.self)")
        for attempt in Placeholders.attempts.indices {
            do {
                return try T(from: ProbeDecoder(recorder: nil, depth: depth, attempt: attempt))
            } catch let failure as ProbeFailure {
                throw failure
            } catch {
                lastError = error
            }
        }
        if let iterable = T.self as? any CaseIterable.Type, let first = firstCase(of: iterable) as? T { return first }
        throw lastError
    }

    private static func firstCase<C: CaseIterable>(of type: C.Type) -> Any? { type.allCases.first }
}

/// The values handed out on each attempt: the plain zero values first, then values that pass
/// common validating initializers (`UUID(uuidString:)`, `URL(string:)`, enums numbered from 1).
private struct Placeholders {
    let string: String
    let integer: Int

    static let attempts = [
        Placeholders(string: "", integer: 0),
        Placeholders(string: "00000000-0000-0000-0000-000000000000", integer: 1),
    ]
}

/// Why the probe gave up regardless of placeholders (reported as is, never retried).
struct ProbeFailure: Error {
    let reason: String
}

/// The keys the top level asked for. Lives for one probe on one thread.
private final class KeyRecorder {
    var names: [String] = []
    var withDefaults: Set<String> = []
    /// The key whose value is being decoded, to name it when that fails.
    var current: String?
    var readsKeysFromData = false

    func record(_ key: some CodingKey, hasDefault: Bool) {
        let name = key.stringValue
        current = name
        guard !names.contains(name) else { return }
        names.append(name)
        if hasDefault { withDefaults.insert(name) }
    }
}

/// The top-level decoder records keys (`recorder` set); nested ones only hand out placeholders.
private struct ProbeDecoder: Decoder {
    let recorder: KeyRecorder?
    let depth: Int
    let attempt: Int

    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(ProbeKeyedContainer<Key>(recorder: recorder, depth: depth, attempt: attempt))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard recorder == nil else { throw ProbeFailure(reason: "it is decoded from an array, not from named properties") }
        return ProbeUnkeyedContainer()
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        guard recorder == nil else { throw ProbeFailure(reason: "it is decoded from a single value, not from named properties") }
        return ProbeSingleValueContainer(depth: depth, attempt: attempt)
    }
}

private struct ProbeKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let recorder: KeyRecorder?
    let depth: Int
    let attempt: Int

    var codingPath: [any CodingKey] { [] }

    var allKeys: [Key] {
        recorder?.readsKeysFromData = true
        return []
    }

    private var values: Placeholders { Placeholders.attempts[attempt] }

    /// Asked before `decodeIfPresent`: the key has a default, and is absent.
    func contains(_ key: Key) -> Bool {
        recorder?.record(key, hasDefault: true)
        return false
    }

    private func take(_ key: Key) { recorder?.record(key, hasDefault: false) }

    func decodeNil(forKey key: Key) throws -> Bool {
        take(key)
        return true
    }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
        take(key)
        return false
    }
    func decode(_ type: String.Type, forKey key: Key) throws -> String {
        take(key)
        return values.string
    }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
        take(key)
        return Double(values.integer)
    }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float {
        take(key)
        return Float(values.integer)
    }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try integer(key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try integer(key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try integer(key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try integer(key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try integer(key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try integer(key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try integer(key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try integer(key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try integer(key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try integer(key) }

    private func integer<I: FixedWidthInteger>(_ key: Key) throws -> I {
        take(key)
        return I(values.integer)
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        take(key)
        return try ParameterNameProbe.placeholder(T.self, depth: depth + 1)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        take(key)
        return KeyedDecodingContainer(ProbeKeyedContainer<NestedKey>(recorder: nil, depth: depth + 1, attempt: attempt))
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        take(key)
        return ProbeUnkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { ProbeDecoder(recorder: nil, depth: depth + 1, attempt: attempt) }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        take(key)
        return ProbeDecoder(recorder: nil, depth: depth + 1, attempt: attempt)
    }
}

/// An empty array: element decoders never run, so arrays of anything probe.
private struct ProbeUnkeyedContainer: UnkeyedDecodingContainer {
    var codingPath: [any CodingKey] { [] }
    var count: Int? { 0 }
    var isAtEnd: Bool { true }
    var currentIndex: Int { 0 }

    private func end(_ type: Any.Type) -> DecodingError {
        DecodingError.valueNotFound(type, DecodingError.Context(codingPath: [], debugDescription: "The probe's arrays are empty."))
    }

    mutating func decodeNil() throws -> Bool { throw end(Never?.self) }
    mutating func decode(_ type: Bool.Type) throws -> Bool { throw end(type) }
    mutating func decode(_ type: String.Type) throws -> String { throw end(type) }
    mutating func decode(_ type: Double.Type) throws -> Double { throw end(type) }
    mutating func decode(_ type: Float.Type) throws -> Float { throw end(type) }
    mutating func decode(_ type: Int.Type) throws -> Int { throw end(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { throw end(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { throw end(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { throw end(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { throw end(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { throw end(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { throw end(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { throw end(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { throw end(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { throw end(type) }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { throw end(type) }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        throw end(type)
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { throw end([Any].self) }
    mutating func superDecoder() throws -> any Decoder { throw end(Any.self) }
}

/// A single value below the top level: `null` when asked (so an `Optional` is `nil`), else a placeholder.
private struct ProbeSingleValueContainer: SingleValueDecodingContainer {
    let depth: Int
    let attempt: Int

    var codingPath: [any CodingKey] { [] }
    private var values: Placeholders { Placeholders.attempts[attempt] }

    func decodeNil() -> Bool { true }
    func decode(_ type: Bool.Type) throws -> Bool { false }
    func decode(_ type: String.Type) throws -> String { values.string }
    func decode(_ type: Double.Type) throws -> Double { Double(values.integer) }
    func decode(_ type: Float.Type) throws -> Float { Float(values.integer) }
    func decode(_ type: Int.Type) throws -> Int { Int(values.integer) }
    func decode(_ type: Int8.Type) throws -> Int8 { Int8(values.integer) }
    func decode(_ type: Int16.Type) throws -> Int16 { Int16(values.integer) }
    func decode(_ type: Int32.Type) throws -> Int32 { Int32(values.integer) }
    func decode(_ type: Int64.Type) throws -> Int64 { Int64(values.integer) }
    func decode(_ type: UInt.Type) throws -> UInt { UInt(values.integer) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { UInt8(values.integer) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { UInt16(values.integer) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { UInt32(values.integer) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { UInt64(values.integer) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T { try ParameterNameProbe.placeholder(T.self, depth: depth + 1) }
}
