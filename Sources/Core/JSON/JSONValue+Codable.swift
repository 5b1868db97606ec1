/// Lets a ``JSONValue`` sit inside any `Codable` type, such as a task's free-form `kwargs`.
///
/// With ``JSONValueEncoder`` and ``JSONValueDecoder`` the value passes through untouched
/// (integers, big integers and doubles stay apart, key order is kept). Through other coders it
/// is written as the nearest plain value; a ``JSONValue/bigInt(_:)`` then becomes its decimal
/// text as a string, since generic encoders have no exact number type for it.
extension JSONValue: Codable {
    /// Decodes any value a decoder can represent; exact and immediate with ``JSONValueDecoder``.
    ///
    /// - Parameter decoder: The decoder to read from.
    /// - Throws: `DecodingError` when the decoder holds nothing JSON-like.
    public init(from decoder: any Decoder) throws {
        if let decoder = decoder as? JSONValueDecoding {
            self = decoder.value
            return
        }
        let single = try decoder.singleValueContainer()
        if single.decodeNil() {
            self = .null
        } else if let b = try? single.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? single.decode(Int.self) {
            self = .int(i)
        } else if let d = try? single.decode(Double.self) {
            self = .double(d)
        } else if let s = try? single.decode(String.self) {
            self = .string(s)
        } else if let a = try? single.decode([JSONValue].self) {
            self = .array(a)
        } else {
            let keyed = try decoder.container(keyedBy: JSONCodingKey.self)
            var object = JSONObject()
            object.reserveCapacity(keyed.allKeys.count)
            for key in keyed.allKeys {
                object.append(key.stringValue, try keyed.decode(JSONValue.self, forKey: key))
            }
            self = .object(object)
        }
    }

    /// Encodes the value; exact and immediate with ``JSONValueEncoder``.
    ///
    /// - Parameter encoder: The encoder to write to.
    /// - Throws: Whatever the encoder throws (for example on a non-finite double).
    public func encode(to encoder: any Encoder) throws {
        if let encoder = encoder as? JSONValueEncoding {
            encoder.node = .value(self)
            return
        }
        switch self {
        case .null:
            var single = encoder.singleValueContainer()
            try single.encodeNil()
        case .bool(let b):
            var single = encoder.singleValueContainer()
            try single.encode(b)
        case .int(let i):
            var single = encoder.singleValueContainer()
            try single.encode(i)
        case .bigInt(let text):
            var single = encoder.singleValueContainer()
            try single.encode(text)
        case .double(let d):
            var single = encoder.singleValueContainer()
            try single.encode(d)
        case .string(let s):
            var single = encoder.singleValueContainer()
            try single.encode(s)
        case .array(let items):
            var unkeyed = encoder.unkeyedContainer()
            for item in items { try unkeyed.encode(item) }
        case .object(let object):
            var keyed = encoder.container(keyedBy: JSONCodingKey.self)
            for member in object.members { try keyed.encode(member.value, forKey: JSONCodingKey(member.key)) }
        }
    }
}
