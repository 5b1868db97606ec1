import Foundation

/// Typed, lenient access to the members of a wire object, throwing ``ProtocolError``.
///
/// Celery tolerates absent optional fields and `null` everywhere a value may be missing, so
/// "absent" and "null" both read as `nil` here; a present value of the wrong type is an
/// error that names the field (`headers.retries: expected int, got string`).
struct FieldReader {
    let object: JSONObject
    /// Prefix for error details, e.g. `headers`.
    let path: String

    init(_ object: JSONObject, path: String) {
        self.object = object
        self.path = path
    }

    func name(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    /// The value, or `nil` when absent or null.
    func value(_ key: String) -> JSONValue? {
        guard let v = object[key], !v.isNull else { return nil }
        return v
    }

    func requiredString(_ key: String) throws(ProtocolError) -> String {
        guard let v = value(key) else { throw .missing(name(key)) }
        guard case .string(let s) = v else { throw .wrongType(name(key), expected: "string", got: v) }
        return s
    }

    func string(_ key: String) throws(ProtocolError) -> String? {
        guard let v = value(key) else { return nil }
        guard case .string(let s) = v else { throw .wrongType(name(key), expected: "string", got: v) }
        return s
    }

    func int(_ key: String) throws(ProtocolError) -> Int? {
        guard let v = value(key) else { return nil }
        guard case .int(let i) = v else { throw .wrongType(name(key), expected: "int", got: v) }
        return i
    }

    func bool(_ key: String) throws(ProtocolError) -> Bool? {
        guard let v = value(key) else { return nil }
        guard case .bool(let b) = v else { throw .wrongType(name(key), expected: "bool", got: v) }
        return b
    }

    func object(_ key: String) throws(ProtocolError) -> JSONObject? {
        guard let v = value(key) else { return nil }
        guard case .object(let o) = v else { throw .wrongType(name(key), expected: "object", got: v) }
        return o
    }

    func array(_ key: String) throws(ProtocolError) -> [JSONValue]? {
        guard let v = value(key) else { return nil }
        guard case .array(let a) = v else { throw .wrongType(name(key), expected: "list", got: v) }
        return a
    }

    /// An ISO-8601 string as ``CeleryDate`` parses it.
    func date(_ key: String) throws(ProtocolError) -> Date? {
        guard let s = try string(key) else { return nil }
        guard let d = CeleryDate.parse(s) else {
            throw ProtocolError(.wrongType, "\(name(key)): not an ISO-8601 datetime: \(s.prefix(64))")
        }
        return d
    }
}

extension JSONParser {
    /// Parses bytes, mapping ``JSONError`` to ``ProtocolError/Code/invalidJSON`` for `what`.
    static func parseForProtocol(_ bytes: [UInt8], what: String, validatingUTF8: Bool = false) throws(ProtocolError) -> JSONValue {
        do {
            return try JSONParser.parse(bytes, validatingUTF8: validatingUTF8)
        } catch {
            throw ProtocolError(.invalidJSON, "\(what): \(error)")
        }
    }
}
