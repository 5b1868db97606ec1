/// Why ``JSONParser`` rejected its input, and where.
///
/// A struct with a code backed by a private enum (as the project's other errors are), so new
/// codes can be added without breaking anyone's `switch`. The description names the byte
/// offset and at most the offending byte, never the input itself: inputs come off the wire
/// and may be huge or hold secrets.
public struct JSONError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem the parser met.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Base: Sendable, Hashable {
            case unexpectedEnd
            case unexpectedCharacter
            case invalidNumber
            case invalidEscape
            case controlCharacterInString
            case tooDeep
            case trailingData
            case invalidUTF8
        }

        private let base: Base

        private init(_ base: Base) { self.base = base }

        /// The input ended in the middle of a value.
        public static let unexpectedEnd = Code(.unexpectedEnd)
        /// A byte that cannot start or continue the value being read.
        public static let unexpectedCharacter = Code(.unexpectedCharacter)
        /// A malformed number, such as `01`, `1.` or `-`.
        public static let invalidNumber = Code(.invalidNumber)
        /// A backslash escape that JSON does not define, or a `\u` without four hex digits.
        public static let invalidEscape = Code(.invalidEscape)
        /// A raw byte below 0x20 inside a string (Python's `json.loads` rejects these too).
        public static let controlCharacterInString = Code(.controlCharacterInString)
        /// Arrays and objects nested deeper than ``JSONParser/maximumDepth``.
        public static let tooDeep = Code(.tooDeep)
        /// Something other than whitespace after the top-level value.
        public static let trailingData = Code(.trailingData)
        /// Bytes inside a string that are not UTF-8, when the caller asked for validation
        /// (``JSONParser/parse(_:validatingUTF8:)``).
        public static let invalidUTF8 = Code(.invalidUTF8)

        public var description: String {
            switch base {
            case .unexpectedEnd: "unexpected end of input"
            case .unexpectedCharacter: "unexpected character"
            case .invalidNumber: "invalid number"
            case .invalidEscape: "invalid escape"
            case .controlCharacterInString: "control character in string"
            case .tooDeep: "nesting too deep"
            case .trailingData: "trailing data after value"
            case .invalidUTF8: "invalid UTF-8 in string"
            }
        }
    }

    /// What went wrong.
    public let code: Code
    /// Offset, in bytes from the start of the input, where the problem was found.
    public let offset: Int
    /// The byte found at ``offset``, when there was one.
    public let byte: UInt8?

    /// Creates an error; the parser is the only expected caller.
    ///
    /// - Parameters:
    ///   - code: What went wrong.
    ///   - offset: Byte offset of the problem.
    ///   - byte: The offending byte, if any.
    public init(_ code: Code, offset: Int, byte: UInt8? = nil) {
        self.code = code
        self.offset = offset
        self.byte = byte
    }

    /// A short message such as `invalid JSON at byte 12: unexpected character 'x'`.
    public var description: String {
        var text = "invalid JSON at byte \(offset): \(code)"
        if let byte {
            if byte >= 0x21 && byte < 0x7F {
                text += " '\(Character(Unicode.Scalar(byte)))'"
            } else {
                text += " (0x" + (byte < 0x10 ? "0" : "") + String(byte, radix: 16) + ")"
            }
        }
        return text
    }
}
