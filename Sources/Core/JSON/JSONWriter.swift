/// Serializes a ``JSONValue`` byte for byte as Python's `json.dumps` would.
///
/// Celery peers only need valid JSON, but matching Python exactly lets us compare our
/// messages with captured ones byte for byte, and keeps `kwargsrepr`-style text identical.
/// With ``Style/python`` the output equals `json.dumps(value)` with default arguments:
/// - separators `", "` and `": "`;
/// - `ensure_ascii=True`: every byte outside `0x20...0x7E` is escaped, non-ASCII as lowercase
///   `\uXXXX` (astral characters as a surrogate pair), `\n \r \t \b \f` by name, other
///   control characters and DEL (0x7F) as `\u00XX`; `"` and `\` are escaped, `/` is not;
/// - object members in stored order;
/// - floats as Python's `repr` (``PythonFloat``), non-finite ones as `NaN`, `Infinity`,
///   `-Infinity`; integers in decimal, ``JSONValue/bigInt(_:)`` as its text.
public struct JSONWriter {
    /// Separator style.
    public enum Style: Sendable, Hashable {
        /// `json.dumps` defaults: `", "` and `": "`.
        case python
        /// `separators=(",", ":")`, otherwise identical to ``python``.
        case compact
    }

    /// Appends the JSON text of `value` to `buffer`.
    ///
    /// - Parameters:
    ///   - value: The value to write.
    ///   - style: Separator style; ``Style/python`` by default.
    ///   - buffer: Where the UTF-8 (in fact ASCII) bytes are appended.
    public static func write(_ value: JSONValue, style: Style = .python, into buffer: inout [UInt8]) {
        writeValue(value, compact: style == .compact, into: &buffer)
    }

    private static func writeValue(_ value: JSONValue, compact: Bool, into buffer: inout [UInt8]) {
        switch value {
        case .null:
            appendASCII("null", to: &buffer)
        case .bool(let b):
            appendASCII(b ? "true" : "false", to: &buffer)
        case .int(let i):
            writeInteger(i, into: &buffer)
        case .bigInt(let text):
            buffer.append(contentsOf: text.utf8)
        case .double(let d):
            if d.isNaN {
                appendASCII("NaN", to: &buffer)
            } else if d.isInfinite {
                appendASCII(d < 0 ? "-Infinity" : "Infinity", to: &buffer)
            } else {
                PythonFloat.write(d, into: &buffer)
            }
        case .string(let s):
            writeString(s, into: &buffer)
        case .array(let items):
            buffer.append(0x5B)
            for (n, item) in items.enumerated() {
                if n > 0 { appendASCII(compact ? "," : ", ", to: &buffer) }
                writeValue(item, compact: compact, into: &buffer)
            }
            buffer.append(0x5D)
        case .object(let object):
            buffer.append(0x7B)
            for (n, member) in object.members.enumerated() {
                if n > 0 { appendASCII(compact ? "," : ", ", to: &buffer) }
                writeString(member.key, into: &buffer)
                appendASCII(compact ? ":" : ": ", to: &buffer)
                writeValue(member.value, compact: compact, into: &buffer)
            }
            buffer.append(0x7D)
        }
    }

    @inline(__always) private static func appendASCII(_ text: StaticString, to buffer: inout [UInt8]) {
        text.withUTF8Buffer { buffer.append(contentsOf: $0) }
    }

    private static func writeInteger(_ value: Int, into buffer: inout [UInt8]) {
        if value < 0 { buffer.append(0x2D) }
        var magnitude = value.magnitude
        if magnitude < 10 {
            buffer.append(0x30 + UInt8(magnitude))
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var k = 20
            repeat {
                k -= 1
                digits[k] = 0x30 + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude != 0
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: digits[k...]))
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    private static func appendEscapedUnit(_ unit: UInt32, into buffer: inout [UInt8]) {
        buffer.append(0x5C)
        buffer.append(0x75)
        buffer.append(hexDigits[Int(unit >> 12 & 0xF)])
        buffer.append(hexDigits[Int(unit >> 8 & 0xF)])
        buffer.append(hexDigits[Int(unit >> 4 & 0xF)])
        buffer.append(hexDigits[Int(unit & 0xF)])
    }

    private static func writeString(_ string: String, into buffer: inout [UInt8]) {
        var string = string
        buffer.append(0x22)
        string.withUTF8 { utf8 in
            let n = utf8.count
            var runStart = 0
            var k = 0
            while k < n {
                let c = utf8[k]
                if c >= 0x20 && c < 0x7F && c != 0x22 && c != 0x5C {
                    k += 1
                    continue
                }
                if k > runStart { buffer.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<k])) }
                switch c {
                case 0x22: buffer.append(0x5C); buffer.append(0x22)
                case 0x5C: buffer.append(0x5C); buffer.append(0x5C)
                case 0x0A: buffer.append(0x5C); buffer.append(0x6E)
                case 0x0D: buffer.append(0x5C); buffer.append(0x72)
                case 0x09: buffer.append(0x5C); buffer.append(0x74)
                case 0x08: buffer.append(0x5C); buffer.append(0x62)
                case 0x0C: buffer.append(0x5C); buffer.append(0x66)
                case ..<0x80:
                    appendEscapedUnit(UInt32(c), into: &buffer)
                default:
                    // A String's UTF-8 is always valid, so the sequence is complete.
                    var scalar: UInt32
                    if c < 0xE0 {
                        scalar = UInt32(c & 0x1F) << 6 | UInt32(utf8[k + 1] & 0x3F)
                        k += 1
                    } else if c < 0xF0 {
                        scalar = UInt32(c & 0x0F) << 12 | UInt32(utf8[k + 1] & 0x3F) << 6 | UInt32(utf8[k + 2] & 0x3F)
                        k += 2
                    } else {
                        scalar = UInt32(c & 0x07) << 18 | UInt32(utf8[k + 1] & 0x3F) << 12
                        scalar |= UInt32(utf8[k + 2] & 0x3F) << 6 | UInt32(utf8[k + 3] & 0x3F)
                        k += 3
                    }
                    if scalar >= 0x10000 {
                        scalar -= 0x10000
                        appendEscapedUnit(0xD800 + scalar >> 10, into: &buffer)
                        appendEscapedUnit(0xDC00 + scalar & 0x3FF, into: &buffer)
                    } else {
                        appendEscapedUnit(scalar, into: &buffer)
                    }
                }
                k += 1
                runStart = k
            }
            if n > runStart { buffer.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<n])) }
        }
        buffer.append(0x22)
    }
}

extension JSONValue {
    /// The value as JSON bytes, by default exactly as Python's `json.dumps` writes it.
    ///
    /// - Parameter style: Separator style; see ``JSONWriter/Style``.
    /// - Returns: ASCII-only JSON text.
    public func serialized(style: JSONWriter.Style = .python) -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(256)
        JSONWriter.write(self, style: style, into: &buffer)
        return buffer
    }

    /// The value as JSON text in Python's `json.dumps` style.
    public var jsonString: String {
        String(decoding: serialized(), as: UTF8.self)
    }
}
