/// A validating cursor over JSON bytes for the fast decoders (``EventFastDecoder``,
/// ``TaskMessageFastDecoder``): it finds token boundaries and
/// checks the grammar without building ``JSONValue`` trees, and hands scalar tokens that need
/// real decoding (numbers, strings with escapes) to ``JSONParser`` itself, so every value it
/// produces is exactly what the general parser would have produced.
///
/// It never throws: any input it is not sure about (malformed JSON, nesting deeper than
/// ``maximumDepth``, an escaped key) makes a method return `nil` or `false`, and the caller
/// falls back to the general decoder, which produces the typed error. So the cursor may be
/// stricter than ``JSONParser`` but never more lenient.
struct JSONCursor {
    /// Deepest nesting skipped; deeper input goes to the general parser (whose limit is 512).
    static let maximumDepth = 64

    let base: UnsafeRawPointer
    let end: Int
    var i: Int

    init(_ bytes: UnsafeRawBufferPointer, from start: Int = 0) {
        // An empty buffer may have no base address; any address works since `end` is 0.
        self.base = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
        self.end = bytes.count
        self.i = start
    }

    /// A string token: the bytes between the quotes, still escaped if ``hasEscapes``.
    struct StringToken {
        var start: Int
        var end: Int
        var hasEscapes: Bool
        var count: Int { end - start }
    }

    @inline(__always) func byte(_ at: Int) -> UInt8 { base.load(fromByteOffset: at, as: UInt8.self) }

    /// The byte at the cursor, or `nil` at the end.
    @inline(__always) var current: UInt8? { i < end ? byte(i) : nil }

    @inline(__always) mutating func skipWhitespace() {
        while i < end {
            let c = byte(i)
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
            i += 1
        }
    }

    /// Consumes `c` after optional whitespace; `false` if the next byte is anything else.
    @inline(__always) mutating func expect(_ c: UInt8) -> Bool {
        skipWhitespace()
        guard i < end, byte(i) == c else { return false }
        i += 1
        return true
    }

    /// Whether only whitespace is left.
    mutating func atEndOfDocument() -> Bool {
        skipWhitespace()
        return i == end
    }

    // MARK: Strings

    /// Offset of the first `"`, `\` or control byte at or after `start`, or `end`; sixteen
    /// bytes at a time (a base64 body is hundreds of bytes of nothing special).
    @inline(__always) func scanToSpecial(from start: Int) -> Int {
        var j = start
        let quote = SIMD16<UInt8>(repeating: 0x22), backslash = SIMD16<UInt8>(repeating: 0x5C)
        let space = SIMD16<UInt8>(repeating: 0x20)
        while j &+ 16 <= end {
            let v = base.loadUnaligned(fromByteOffset: j, as: SIMD16<UInt8>.self)
            if any((v .== quote) .| (v .== backslash) .| (v .< space)) { break }
            j &+= 16
        }
        while j < end {
            let c = byte(j)
            if c == 0x22 || c == 0x5C || c < 0x20 { return j }
            j += 1
        }
        return end
    }

    /// Reads a string whose opening quote is at the cursor (after whitespace), checking its
    /// escapes and control bytes as ``JSONParser`` does; the cursor ends past the closing quote.
    @inline(__always)
    mutating func string() -> StringToken? {
        skipWhitespace()
        guard i < end, byte(i) == 0x22 else { return nil }
        let start = i + 1
        var j = scanToSpecial(from: start)
        var escaped = false
        while true {
            guard j < end else { return nil }
            let c = byte(j)
            if c == 0x22 { break }
            if c < 0x20 { return nil }
            // A backslash: the escape must be one JSON defines.
            escaped = true
            guard j + 1 < end else { return nil }
            switch byte(j + 1) {
            case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74:
                j += 2
            case 0x75:  // \uXXXX
                guard j + 6 <= end else { return nil }
                for k in 2..<6 where !Self.isHex(byte(j + k)) { return nil }
                j += 6
            default:
                return nil
            }
            j = scanToSpecial(from: j)
        }
        i = j + 1
        return StringToken(start: start, end: j, hasEscapes: escaped)
    }

    /// Whether an unescaped string token holds exactly `literal`.
    @inline(__always) func matches(_ t: StringToken, _ literal: StaticString) -> Bool {
        guard !t.hasEscapes, t.count == literal.utf8CodeUnitCount else { return false }
        return memcmpEqual(base + t.start, literal.utf8Start, t.count)
    }

    /// The token's text, decoded exactly as ``JSONParser`` decodes it (escapes, surrogates,
    /// invalid UTF-8 repaired with U+FFFD); `nil` only if the general parser disagrees.
    func text(_ t: StringToken) -> String? {
        if t.hasEscapes {
            // Rare (tracebacks, quotes): let the general parser decode the quoted token.
            guard case .string(let s)? = try? JSONParser.parse(UnsafeRawBufferPointer(start: base + t.start - 1, count: t.count + 2))
            else { return nil }
            return s
        }
        if t.count == 0 { return "" }
        return String(unsafeUninitializedCapacity: t.count) { out in
            UnsafeMutableRawBufferPointer(out).copyMemory(from: UnsafeRawBufferPointer(start: base + t.start, count: t.count))
            return t.count
        }
    }

    /// Raw bytes of an unescaped token, for comparing without building a string.
    func bytes(_ t: StringToken) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + t.start, count: t.count)
    }

    // MARK: Scalars

    /// Reads a number or literal (`true`, `false`, `null`, `NaN`, `Infinity`, `-Infinity`) at
    /// the cursor and returns its value as ``JSONParser`` reads it; `nil` if malformed.
    mutating func scalar() -> JSONValue? {
        skipWhitespace()
        let start = i
        skipScalar()
        return scalarValue(start: start, end: i)
    }

    /// Moves the cursor past a scalar token (up to the next structural byte or whitespace),
    /// without checking it.
    mutating func skipScalar() {
        while i < end {
            switch byte(i) {
            case 0x2C, 0x7D, 0x5D, 0x20, 0x0A, 0x0D, 0x09, 0x3A, 0x22, 0x7B, 0x5B: return
            default: i += 1
            }
        }
    }

    /// The value of the scalar token `start..<stop`, as ``JSONParser`` reads it; `nil` if malformed.
    func scalarValue(start: Int, end stop: Int) -> JSONValue? {
        let n = stop - start
        guard n > 0 else { return nil }
        let p = base + start
        // The literals and plain small integers are decoded here; every other token by the
        // general parser (floats need its exact rounding).
        switch byte(start) {
        case 0x6E: return n == 4 && memcmpEqual(p, ("null" as StaticString).utf8Start, 4) ? .null : nil
        case 0x74: return n == 4 && memcmpEqual(p, ("true" as StaticString).utf8Start, 4) ? .bool(true) : nil
        case 0x66: return n == 5 && memcmpEqual(p, ("false" as StaticString).utf8Start, 5) ? .bool(false) : nil
        case 0x30...0x39 where n <= 18:
            var v = 0
            for k in 0..<n {
                let d = Int(p.load(fromByteOffset: k, as: UInt8.self)) &- 0x30
                guard d >= 0 && d <= 9 else { return generalScalar(p, n) }
                v = v &* 10 &+ d
            }
            // JSON forbids leading zeros ("01"); leave that to the parser's error.
            if n > 1 && byte(start) == 0x30 { return nil }
            return .int(v)
        default:
            return generalScalar(p, n)
        }
    }

    private func generalScalar(_ p: UnsafeRawPointer, _ n: Int) -> JSONValue? {
        try? JSONParser.parse(UnsafeRawBufferPointer(start: p, count: n))
    }

    /// The value at the cursor (after whitespace) as ``JSONParser`` reads it, the cursor moved
    /// past it; `nil` if malformed. Containers are grammar-checked, then parsed from their span.
    mutating func value() -> JSONValue? {
        skipWhitespace()
        guard let c = current else { return nil }
        switch c {
        case 0x22:
            guard let t = string() else { return nil }
            return text(t).map(JSONValue.string)
        case 0x7B, 0x5B:
            let start = i
            guard skipValue() else { return nil }
            return try? JSONParser.parse(UnsafeRawBufferPointer(start: base + start, count: i - start))
        default:
            return scalar()
        }
    }

    // MARK: Skipping

    /// Skips one value of any kind at the cursor, checking its grammar; `false` if malformed
    /// or nested deeper than ``maximumDepth``.
    mutating func skipValue() -> Bool {
        // One bit per open container: 1 for an object, 0 for an array.
        var objects: UInt64 = 0
        var depth = 0
        while true {
            skipWhitespace()
            guard i < end else { return false }
            switch byte(i) {
            case 0x7B, 0x5B:  // { [
                let isObject = byte(i) == 0x7B
                i += 1
                skipWhitespace()
                guard i < end else { return false }
                if byte(i) == (isObject ? 0x7D : 0x5D) {
                    i += 1
                } else {
                    guard depth < Self.maximumDepth else { return false }
                    objects = objects << 1 | (isObject ? 1 : 0)
                    depth += 1
                    if isObject {
                        guard string() != nil, expect(0x3A) else { return false }
                    }
                    continue
                }
            case 0x22:
                guard string() != nil else { return false }
            default:
                guard scalar() != nil else { return false }
            }
            // A value is complete: continue or close its containers.
            while depth > 0 {
                skipWhitespace()
                guard i < end else { return false }
                let inObject = objects & 1 == 1
                let c = byte(i)
                if c == 0x2C {
                    i += 1
                    if inObject {
                        guard string() != nil, expect(0x3A) else { return false }
                    }
                    break
                }
                guard c == (inObject ? 0x7D : 0x5D) else { return false }
                i += 1
                objects >>= 1
                depth -= 1
            }
            if depth == 0 { return true }
        }
    }

    @inline(__always) static func isHex(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
    }
}

/// Byte equality of two short ranges (keys and literals are a few bytes: a loop beats a call).
@inline(__always) func memcmpEqual(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ n: Int) -> Bool {
    for k in 0..<n where a.load(fromByteOffset: k, as: UInt8.self) != b.load(fromByteOffset: k, as: UInt8.self) {
        return false
    }
    return true
}
