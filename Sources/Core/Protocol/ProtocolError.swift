/// Why a message from the wire could not be turned into a typed value.
///
/// Decoding never traps: every malformed input — bad base64, bad JSON, a field of the wrong
/// type, a protocol v1 message — surfaces as one of these, so a worker can dead-letter the
/// message (see ``DeadLetter``) and keep consuming. ``description`` is one short line that
/// names the field, suitable for logs and for a dead-letter `reason`.
public struct ProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem was found. New codes can be added without breaking callers,
    /// because the cases live in a private enum.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Value: String, Sendable, Hashable {
            case invalidJSON, invalidBase64, missingField, wrongType
            case unsupportedContentType, unsupportedProtocol, tooLarge
        }

        private let value: Value

        private init(_ value: Value) { self.value = value }

        /// The bytes are not JSON (or not the JSON shape a value needs at the top level).
        public static let invalidJSON = Code(.invalidJSON)
        /// The envelope's `body` is not valid standard base64.
        public static let invalidBase64 = Code(.invalidBase64)
        /// A required field is absent.
        public static let missingField = Code(.missingField)
        /// A field is present but has a type Celery would not accept.
        public static let wrongType = Code(.wrongType)
        /// The content type or body encoding is not one this codec speaks (only JSON is).
        public static let unsupportedContentType = Code(.unsupportedContentType)
        /// Task protocol v1 (no `task` header) or another shape this codec does not speak.
        public static let unsupportedProtocol = Code(.unsupportedProtocol)
        /// The input exceeds a size limit set by the caller.
        public static let tooLarge = Code(.tooLarge)

        public var description: String { value.rawValue }
    }

    /// The kind of problem.
    public let code: Code
    /// Which field or input was at fault, e.g. `headers.retries: expected int, got string`.
    public let details: String

    public init(_ code: Code, _ details: String) {
        self.code = code
        self.details = details
    }

    public var description: String { "\(code): \(details)" }
}

extension ProtocolError {
    static func missing(_ field: String) -> ProtocolError { ProtocolError(.missingField, field) }

    static func wrongType(_ field: String, expected: String, got value: JSONValue) -> ProtocolError {
        ProtocolError(.wrongType, "\(field): expected \(expected), got \(value.protocolTypeName)")
    }
}

extension JSONValue {
    /// The JSON type name used in error details.
    var protocolTypeName: String {
        switch self {
        case .null: "null"
        case .bool: "bool"
        case .int, .bigInt: "int"
        case .double: "float"
        case .string: "string"
        case .array: "list"
        case .object: "object"
        }
    }
}
