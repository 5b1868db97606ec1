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
        // Scalars, which builders of messages and events write one field at a time, go
        // straight into the buffer: a scratch sink per field was a malloc and a copy each.
        switch value {
        case .null: buffer.append(contentsOf: "null".utf8); return
        case .bool(let b): buffer.append(contentsOf: (b ? "true" : "false").utf8); return
        case .int(let i): buffer.append(contentsOf: String(i).utf8); return
        case .double(let d) where d.isFinite:
            PythonFloat.write(d, into: &buffer)
            return
        case .string(let s):
            if appendPlain(s, to: &buffer) { return }
        default: break
        }
        var sink = ByteSink(capacity: 512)
        writeValue(value, compact: style == .compact, into: &sink)
        sink.withBytes { buffer.append(contentsOf: $0) }
    }

    /// Appends `"s"` when no byte of `s` needs escaping; `false` (nothing appended) otherwise.
    private static func appendPlain(_ s: String, to buffer: inout [UInt8]) -> Bool {
        var s = s
        return s.withUTF8 { utf8 -> Bool in
            let n = utf8.count
            if let start = utf8.baseAddress {
                let raw = UnsafeRawPointer(start)
                var k = 0
                while k &+ 8 <= n {
                    guard isPlainASCII(raw.loadUnaligned(fromByteOffset: k, as: UInt64.self)) else { return false }
                    k += 8
                }
                while k < n {
                    let c = utf8[k]
                    guard c >= 0x20 && c < 0x7F && c != 0x22 && c != 0x5C else { return false }
                    k += 1
                }
            }
            buffer.append(0x22)
            buffer.append(contentsOf: utf8)
            buffer.append(0x22)
            return true
        }
    }

    /// The serialized bytes as a new array.
    static func bytes(of value: JSONValue, style: Style) -> [UInt8] {
        var sink = ByteSink(capacity: 512)
        writeValue(value, compact: style == .compact, into: &sink)
        return sink.withBytes { Array($0) }
    }

    /// Internal so ``TaskMessageWriter`` can write a message's parts straight into its own sink.
    static func writeValue(_ value: JSONValue, compact: Bool, into buffer: inout ByteSink) {
        switch value {
        case .null:
            appendASCII("null", to: &buffer)
        case .bool(let b):
            appendASCII(b ? "true" : "false", to: &buffer)
        case .int(let i):
            writeInteger(i, into: &buffer)
        case .bigInt(let text):
            var text = text
            text.withUTF8 { buffer.append($0) }
        case .double(let d):
            if d.isNaN {
                appendASCII("NaN", to: &buffer)
            } else if d.isInfinite {
                appendASCII(d < 0 ? "-Infinity" : "Infinity", to: &buffer)
            } else {
                buffer.reserve(32)
                buffer.count += PythonFloat.write(d, to: buffer.end)
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

    @inline(__always) private static func appendASCII(_ text: StaticString, to buffer: inout ByteSink) {
        buffer.append(UnsafeRawPointer(text.utf8Start), count: text.utf8CodeUnitCount)
    }

    static func writeInteger(_ value: Int, into buffer: inout ByteSink) {
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
            buffer.append(UnsafeRawPointer(digits.baseAddress! + k), count: 20 - k)
        }
    }

    @inline(__always) private static func hexDigit(_ nibble: UInt32) -> UInt8 {
        let n = UInt8(truncatingIfNeeded: nibble & 0xF)
        return n < 10 ? 0x30 + n : 0x57 + n  // lowercase, as Python
    }

    private static func appendEscapedUnit(_ unit: UInt32, into buffer: inout ByteSink) {
        buffer.append(0x5C)
        buffer.append(0x75)
        buffer.append(hexDigit(unit >> 12))
        buffer.append(hexDigit(unit >> 8))
        buffer.append(hexDigit(unit >> 4))
        buffer.append(hexDigit(unit))
    }

    /// Internal so ``TaskMessageWriter`` can write header strings without a ``JSONValue``.
    static func writeString(_ string: String, into buffer: inout ByteSink) {
        buffer.append(0x22)
        let done: Void? = string.utf8.withContiguousStorageIfAvailable { writeEscaped($0, into: &buffer) }
        if done == nil {
            var copy = string
            copy.withUTF8 { writeEscaped($0, into: &buffer) }
        }
        buffer.append(0x22)
    }

    /// True when none of the eight bytes needs escaping (all in 0x20...0x7E, none `"` or `\`).
    @inline(__always) private static func isPlainASCII(_ w: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let q = w ^ (ones &* 0x22)
        let s = w ^ (ones &* 0x5C)
        let del = w ^ (ones &* 0x7F)
        let flags =
            (w & highs) | ((w &- ones &* 0x20) & ~w & highs) | ((q &- ones) & ~q & highs)
            | ((s &- ones) & ~s & highs) | ((del &- ones) & ~del & highs)
        return flags == 0
    }

    private static func writeEscaped(_ utf8: UnsafeBufferPointer<UInt8>, into buffer: inout ByteSink) {
        let n = utf8.count
        guard n > 0, let start = utf8.baseAddress else { return }
        let raw = UnsafeRawPointer(start)
        var runStart = 0
        var k = 0
        while k < n {
            if k &+ 8 <= n && isPlainASCII(raw.loadUnaligned(fromByteOffset: k, as: UInt64.self)) {
                k += 8
                continue
            }
            let c = utf8[k]
            if c >= 0x20 && c < 0x7F && c != 0x22 && c != 0x5C {
                k += 1
                continue
            }
            if k > runStart { buffer.append(raw + runStart, count: k - runStart) }
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
        if n > runStart { buffer.append(raw + runStart, count: n - runStart) }
    }
}

extension JSONValue {
    /// The value as JSON bytes, by default exactly as Python's `json.dumps` writes it.
    ///
    /// - Parameter style: Separator style; see ``JSONWriter/Style``.
    /// - Returns: ASCII-only JSON text.
    public func serialized(style: JSONWriter.Style = .python) -> [UInt8] {
        JSONWriter.bytes(of: self, style: style)
    }

    /// The value as JSON text in Python's `json.dumps` style.
    public var jsonString: String {
        String(decoding: serialized(), as: UTF8.self)
    }
}

/// A growable byte buffer written through a raw pointer.
///
/// Appending to `[UInt8]` byte by byte pays a uniqueness and capacity check per call; the
/// writer emits many tiny pieces, so it fills this instead and copies out once at the end.
struct ByteSink: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    var count = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    /// Where the next byte goes; valid for as many bytes as were last ``reserve(_:)``d.
    var end: UnsafeMutablePointer<UInt8> { base + count }

    @inline(__always) mutating func reserve(_ extra: Int) {
        if count + extra > capacity { grow(to: count + extra) }
    }

    private mutating func grow(to needed: Int) {
        let newCapacity = max(needed, capacity * 2)
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.initialize(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    @inline(__always) mutating func append(_ byte: UInt8) {
        reserve(1)
        base[count] = byte
        count += 1
    }

    @inline(__always) mutating func append(_ bytes: UnsafeRawPointer, count n: Int) {
        reserve(n)
        UnsafeMutableRawPointer(base + count).copyMemory(from: bytes, byteCount: n)
        count += n
    }

    @inline(__always) mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let start = bytes.baseAddress else { return }
        append(UnsafeRawPointer(start), count: bytes.count)
    }

    func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        body(UnsafeBufferPointer(start: base, count: count))
    }
}
