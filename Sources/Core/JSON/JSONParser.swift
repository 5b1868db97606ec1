/// Parses JSON text, as Python's `json` module writes it, into a ``JSONValue``.
///
/// Why our own parser (see `shared/notes/json.md`): Foundation rounds 17-digit floats wrongly,
/// mangles integers beyond 64 bits, confuses `1` with `true`, loses key order and rejects
/// `NaN`, `Infinity` and lone surrogates, all of which Python's `json` emits.
///
/// The parser works on raw bytes and never builds `Character`s. It is iterative (an explicit
/// stack, no recursion), so hostile nesting cannot overflow the thread's stack, and it runs
/// in time linear in the input. It accepts:
/// - `NaN`, `Infinity` and `-Infinity` as ``JSONValue/double(_:)``;
/// - integers that fit `Int` as ``JSONValue/int(_:)``, larger ones as ``JSONValue/bigInt(_:)``
///   holding their text; any number with `.`, `e` or `E` is a double (`2.0` stays a double),
///   and overflowing doubles such as `1e400` become infinity, as in Python;
/// - `\uXXXX` escapes including surrogate pairs; a lone surrogate becomes U+FFFD (Python keeps
///   it, but a Swift `String` cannot hold one);
/// - invalid UTF-8 inside strings, repaired with U+FFFD, unless the caller asks for
///   `validatingUTF8`: then it is ``JSONError/Code/invalidUTF8``, as Python's `json.loads` of
///   bytes (and so Celery's task body decoding) rejects it.
///
/// Like Python it rejects raw control characters (below 0x20) inside strings, leading zeros,
/// trailing commas and anything but whitespace after the value. A duplicate key keeps the
/// position of its first occurrence and the value of its last, as a Python `dict` does.
public enum JSONParser {
    /// How deeply arrays and objects may nest before parsing fails with ``JSONError/Code/tooDeep``.
    public static let maximumDepth = 512

    /// Parses one JSON document from raw bytes.
    ///
    /// - Parameter bytes: The UTF-8 encoded JSON text; only whitespace may follow the value.
    /// - Returns: The parsed value.
    /// - Throws: ``JSONError`` with the byte offset of the first problem.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONError) -> JSONValue {
        try parse(bytes, validatingUTF8: false)
    }

    /// Parses one JSON document from raw bytes, optionally rejecting invalid UTF-8 in strings.
    ///
    /// - Parameters:
    ///   - bytes: The UTF-8 encoded JSON text; only whitespace may follow the value.
    ///   - validatingUTF8: Whether a string (or key) holding bytes that are not UTF-8 fails
    ///     with ``JSONError/Code/invalidUTF8`` instead of being repaired with U+FFFD. Only
    ///     strings with bytes above 0x7F are checked, so ASCII text costs one extra scan.
    /// - Returns: The parsed value.
    /// - Throws: ``JSONError`` with the byte offset of the first problem.
    public static func parse(_ bytes: UnsafeRawBufferPointer, validatingUTF8: Bool) throws(JSONError) -> JSONValue {
        guard let base = bytes.baseAddress, bytes.count > 0 else {
            throw JSONError(.unexpectedEnd, offset: 0)
        }
        var reader = JSONReader(base: base, end: bytes.count, validatesUTF8: validatingUTF8)
        return try reader.parseDocument()
    }

    /// Parses one JSON document from a byte array.
    ///
    /// - Parameters:
    ///   - bytes: The UTF-8 encoded JSON text.
    ///   - validatingUTF8: Reject invalid UTF-8 in strings rather than repair it; see
    ///     ``parse(_:validatingUTF8:)``.
    /// - Returns: The parsed value.
    /// - Throws: ``JSONError`` with the byte offset of the first problem.
    public static func parse(_ bytes: [UInt8], validatingUTF8: Bool = false) throws(JSONError) -> JSONValue {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(JSONError) -> JSONValue in try parse(raw, validatingUTF8: validatingUTF8) }
        }
        return try result.get()
    }

    /// Parses one JSON document from a string's UTF-8.
    ///
    /// - Parameter string: The JSON text.
    /// - Returns: The parsed value.
    /// - Throws: ``JSONError`` with the byte offset of the first problem.
    public static func parse(_ string: String) throws(JSONError) -> JSONValue {
        var string = string
        let result = string.withUTF8 { utf8 in
            Result { () throws(JSONError) -> JSONValue in try parse(UnsafeRawBufferPointer(utf8)) }
        }
        return try result.get()
    }

    /// Parses one JSON document from any collection of bytes (`Data`, `ArraySlice`, …).
    ///
    /// - Parameter bytes: The UTF-8 encoded JSON text.
    /// - Returns: The parsed value.
    /// - Throws: ``JSONError`` with the byte offset of the first problem.
    public static func parse(_ bytes: some Collection<UInt8>) throws(JSONError) -> JSONValue {
        let contiguous = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(JSONError) -> JSONValue in try parse(UnsafeRawBufferPointer(buffer)) }
        }
        if let contiguous { return try contiguous.get() }
        return try parse(Array(bytes))
    }
}

extension JSONValue {
    /// Parses JSON text; see ``JSONParser``.
    ///
    /// - Parameter bytes: The UTF-8 encoded JSON text (`[UInt8]`, `Data`, a slice, …).
    /// - Throws: ``JSONError`` with the byte offset of the first problem.
    public init(parsing bytes: some Collection<UInt8>) throws(JSONError) {
        self = try JSONParser.parse(bytes)
    }

    /// Parses JSON text held in a string; see ``JSONParser``.
    ///
    /// - Parameter text: The JSON text.
    /// - Throws: ``JSONError`` with the byte offset of the first problem.
    public init(parsing text: String) throws(JSONError) {
        self = try JSONParser.parse(text)
    }
}

// MARK: - Reader

private let quote: UInt8 = 0x22  // "
private let backslash: UInt8 = 0x5C  // \
private let comma: UInt8 = 0x2C
private let colon: UInt8 = 0x3A

/// One open array or object: where its values (and keys) start on the flat stacks.
private struct OpenContainer {
    var isObject: Bool
    var valueBase: Int
    var keyBase: Int
}

/// The parser's state: a cursor over the input plus flat stacks of pending values and keys.
///
/// Values of every open container live on one flat `values` stack (and object keys on `keys`)
/// so that growing them is amortised over the whole document rather than per container.
private struct JSONReader {
    let base: UnsafeRawPointer
    let end: Int
    /// Reject strings that are not UTF-8 instead of repairing them.
    let validatesUTF8: Bool
    var i = 0
    var values: [JSONValue] = []
    var keys: [String] = []
    var keyHashes: [UInt64] = []
    var open: [OpenContainer] = []

    init(base: UnsafeRawPointer, end: Int, validatesUTF8: Bool) {
        self.base = base
        self.end = end
        self.validatesUTF8 = validatesUTF8
    }

    @inline(__always) func byte(_ at: Int) -> UInt8 {
        base.load(fromByteOffset: at, as: UInt8.self)
    }

    func error(_ code: JSONError.Code, at offset: Int) -> JSONError {
        JSONError(code, offset: offset, byte: offset < end ? byte(offset) : nil)
    }

    /// An error for the byte at `at`, or "unexpected end" when the input has run out.
    func unexpected(at offset: Int) -> JSONError {
        offset < end ? error(.unexpectedCharacter, at: offset) : JSONError(.unexpectedEnd, offset: offset)
    }

    @inline(__always) mutating func skipWhitespace() {
        while i < end {
            let c = byte(i)
            guard c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 else { return }
            i += 1
        }
    }

    mutating func parseDocument() throws(JSONError) -> JSONValue {
        var value: JSONValue
        parsing: while true {
            skipWhitespace()
            guard i < end else { throw JSONError(.unexpectedEnd, offset: i) }
            switch byte(i) {
            case 0x7B:  // {
                guard open.count < JSONParser.maximumDepth else { throw error(.tooDeep, at: i) }
                i += 1
                skipWhitespace()
                if i < end && byte(i) == 0x7D {
                    i += 1
                    value = .object(JSONObject())
                } else {
                    openContainer(isObject: true)
                    try readKey()
                    continue parsing
                }
            case 0x5B:  // [
                guard open.count < JSONParser.maximumDepth else { throw error(.tooDeep, at: i) }
                i += 1
                skipWhitespace()
                if i < end && byte(i) == 0x5D {
                    i += 1
                    value = .array([])
                } else {
                    openContainer(isObject: false)
                    continue parsing
                }
            case quote:
                i += 1
                value = .string(try readString())
            case 0x2D, 0x30...0x39:
                value = try readNumber()
            case 0x74: try expectLiteral("true"); value = .bool(true)
            case 0x66: try expectLiteral("false"); value = .bool(false)
            case 0x6E: try expectLiteral("null"); value = .null
            case 0x4E: try expectLiteral("NaN"); value = .double(.nan)
            case 0x49: try expectLiteral("Infinity"); value = .double(.infinity)
            default:
                throw error(.unexpectedCharacter, at: i)
            }

            // A value is complete: hand it to its container, closing containers as they end.
            while let container = open.last {
                values.append(value)
                skipWhitespace()
                guard i < end else { throw JSONError(.unexpectedEnd, offset: i) }
                let c = byte(i)
                if c == comma {
                    i += 1
                    if container.isObject { try readKey() }
                    continue parsing
                }
                guard c == (container.isObject ? 0x7D : 0x5D) else { throw error(.unexpectedCharacter, at: i) }
                i += 1
                open.removeLast()
                value = container.isObject ? .object(closeObject(container)) : .array(closeArray(container))
            }
            skipWhitespace()
            guard i == end else { throw error(.trailingData, at: i) }
            return value
        }
    }

    mutating func openContainer(isObject: Bool) {
        // Room for a task body (`[args, kwargs, embed]`) at the first container: growing the
        // empty stacks one doubling at a time was most of the cost of parsing a small document.
        // (Not in `init`: a scalar document needs no stack at all.)
        if open.capacity == 0 {
            open.reserveCapacity(4)
            values.reserveCapacity(16)
        }
        if isObject && keys.capacity == 0 {
            keys.reserveCapacity(8)
            keyHashes.reserveCapacity(8)
        }
        open.append(OpenContainer(isObject: isObject, valueBase: values.count, keyBase: keys.count))
    }

    mutating func closeArray(_ container: OpenContainer) -> [JSONValue] {
        var items: [JSONValue] = []
        items.reserveCapacity(values.count - container.valueBase)
        for j in container.valueBase..<values.count { items.append(takeValue(j)) }
        values.removeSubrange(container.valueBase...)
        return items
    }

    /// Moves a pending value out (leaving a trivial `.null`), saving a retain/release pair.
    @inline(__always) mutating func takeValue(_ j: Int) -> JSONValue {
        var value = JSONValue.null
        swap(&value, &values[j])
        return value
    }

    @inline(__always) mutating func takeKey(_ j: Int) -> String {
        var key = ""
        swap(&key, &keys[j])
        return key
    }

    /// Builds the object from the pending keys and values; a repeated key keeps its first
    /// position and its last value, as Python's `dict` does.
    mutating func closeObject(_ container: OpenContainer) -> JSONObject {
        let kb = container.keyBase, vb = container.valueBase
        let n = keys.count - kb
        var hasDuplicates = n > 32
        if !hasDuplicates {
            search: for a in 1..<max(n, 1) {
                for b in 0..<a where keyHashes[kb + a] == keyHashes[kb + b] && keys[kb + a] == keys[kb + b] {
                    hasDuplicates = true
                    break search
                }
            }
        }
        var members: [JSONMember] = []
        members.reserveCapacity(n)
        if hasDuplicates {
            var position: [String: Int] = [:]
            position.reserveCapacity(n)
            for j in 0..<n {
                let key = takeKey(kb + j)
                if let p = position[key] {
                    members[p].value = takeValue(vb + j)
                } else {
                    position[key] = members.count
                    members.append(JSONMember(key, takeValue(vb + j)))
                }
            }
        } else {
            for j in 0..<n { members.append(JSONMember(takeKey(kb + j), takeValue(vb + j))) }
        }
        keys.removeSubrange(kb...)
        keyHashes.removeSubrange(kb...)
        values.removeSubrange(vb...)
        return JSONObject(members)
    }

    /// Reads `"key"` and the `:` after it, leaving the cursor at the value.
    mutating func readKey() throws(JSONError) {
        skipWhitespace()
        guard i < end, byte(i) == quote else { throw unexpected(at: i) }
        i += 1
        var key = try readString()
        keyHashes.append(key.withUTF8(quickHash))
        keys.append(key)
        skipWhitespace()
        guard i < end, byte(i) == colon else { throw unexpected(at: i) }
        i += 1
    }

    mutating func expectLiteral(_ literal: StaticString) throws(JSONError) {
        let count = literal.utf8CodeUnitCount
        let text = literal.utf8Start
        for k in 0..<count {
            guard i + k < end, byte(i + k) == text[k] else { throw unexpected(at: i + k) }
        }
        i += count
    }

    // MARK: Strings

    /// Offset of the first `"`, `\` or control byte at or after `from`, or `end`.
    ///
    /// Looks at eight bytes at a time: the lowest flagged byte of each bit trick is exact
    /// (borrows only travel upwards), which is all we need.
    /// `bytesSeen` collects (ORs) the bytes scanned, so a caller can tell an all-ASCII string
    /// (bit 7 clear in every byte) without a second pass.
    @inline(__always) func scanToSpecial(from start: Int, bytesSeen: inout UInt64) -> Int {
        var j = start
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        while j &+ 8 <= end {
            let w = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: j, as: UInt64.self))
            bytesSeen |= w
            let q = w ^ (ones &* 0x22)
            let s = w ^ (ones &* 0x5C)
            let found =
                ((q &- ones) & ~q & highs) | ((s &- ones) & ~s & highs) | ((w &- ones &* 0x20) & ~w & highs)
            if found != 0 { return j + found.trailingZeroBitCount / 8 }
            j += 8
        }
        while j < end {
            let c = byte(j)
            bytesSeen |= UInt64(c)
            if c == quote || c == backslash || c < 0x20 { return j }
            j += 1
        }
        return end
    }

    /// Reads a string body; the cursor is just past the opening quote and ends past the closing one.
    mutating func readString() throws(JSONError) -> String {
        let start = i
        var bytesSeen: UInt64 = 0
        var j = scanToSpecial(from: start, bytesSeen: &bytesSeen)
        guard j < end else { throw JSONError(.unexpectedEnd, offset: end) }
        // Only a string with a byte above 0x7F can be invalid UTF-8 (the scan may have looked a
        // few bytes past the string's end: that only costs a needless check).
        let mayBeNonASCII = bytesSeen & 0x8080_8080_8080_8080 != 0
        if byte(j) == quote {
            if validatesUTF8 && mayBeNonASCII { try checkUTF8(from: start, to: j) }
            i = j + 1
            return makeString(from: start, count: j - start)
        }
        // Escapes ahead: find (and validate) the end first, then decode in a second pass into
        // a string of the raw length, which is never shorter than the decoded text.
        while true {
            guard j < end else { throw JSONError(.unexpectedEnd, offset: end) }
            let c = byte(j)
            if c == quote { break }
            if c < 0x20 { throw error(.controlCharacterInString, at: j) }
            // A backslash: check the escape.
            guard j + 1 < end else { throw JSONError(.unexpectedEnd, offset: end) }
            switch byte(j + 1) {
            case quote, backslash, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74:
                j += 2
            case 0x75:  // u
                for k in 2..<6 {
                    guard j + k < end else { throw JSONError(.unexpectedEnd, offset: end) }
                    guard hexValue(byte(j + k)) >= 0 else { throw error(.invalidEscape, at: j + k) }
                }
                j += 6
            default:
                throw error(.invalidEscape, at: j + 1)
            }
            j = scanToSpecial(from: j, bytesSeen: &bytesSeen)
        }
        let rawEnd = j
        // Escapes are ASCII, so checking the raw text checks every byte the string copies.
        if validatesUTF8 && bytesSeen & 0x8080_8080_8080_8080 != 0 { try checkUTF8(from: start, to: rawEnd) }
        i = j + 1
        return String(unsafeUninitializedCapacity: rawEnd - start) { out in
            decodeEscaped(from: start, to: rawEnd, into: out)
        }
    }

    /// Throws ``JSONError/Code/invalidUTF8`` at the first byte of `start..<stop` that is not
    /// part of well-formed UTF-8 (Unicode's table 3-7: no overlongs, surrogates or values
    /// above U+10FFFF), as Python's strict `utf-8` codec rejects them. ASCII runs are skipped
    /// eight bytes at a time.
    func checkUTF8(from start: Int, to stop: Int) throws(JSONError) {
        var j = start
        while j < stop {
            while j &+ 8 <= stop, base.loadUnaligned(fromByteOffset: j, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                j &+= 8
            }
            guard j < stop else { return }
            let lead = byte(j)
            if lead < 0x80 {
                j += 1
                continue
            }
            // The allowed range of the second byte, and how many bytes the sequence has.
            let length: Int
            var low: UInt8 = 0x80, high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: throw error(.invalidUTF8, at: j)
            }
            guard j + 1 < stop, byte(j + 1) >= low, byte(j + 1) <= high else { throw error(.invalidUTF8, at: j) }
            for k in 2..<length {
                guard j + k < stop, byte(j + k) & 0xC0 == 0x80 else { throw error(.invalidUTF8, at: j) }
            }
            j += length
        }
    }

    /// A string holding a copy of the raw bytes; invalid UTF-8 is repaired with U+FFFD.
    func makeString(from start: Int, count: Int) -> String {
        if count == 0 { return "" }
        return String(unsafeUninitializedCapacity: count) { out in
            UnsafeMutableRawBufferPointer(out).copyMemory(from: UnsafeRawBufferPointer(start: base + start, count: count))
            return count
        }
    }

    /// Decodes an already validated string body with escapes into `out`; returns bytes written.
    func decodeEscaped(from start: Int, to stop: Int, into out: UnsafeMutableBufferPointer<UInt8>) -> Int {
        let dst = UnsafeMutableRawPointer(out.baseAddress!)
        var o = 0
        var j = start
        while j < stop {
            var run = j
            while run < stop && byte(run) != backslash { run += 1 }
            if run > j {
                (dst + o).copyMemory(from: base + j, byteCount: run - j)
                o += run - j
                j = run
                continue
            }
            // byte(j) is a backslash followed by a valid escape.
            let e = byte(j + 1)
            if e != 0x75 {
                let decoded: UInt8 =
                    switch e {
                    case 0x62: 0x08
                    case 0x66: 0x0C
                    case 0x6E: 0x0A
                    case 0x72: 0x0D
                    case 0x74: 0x09
                    default: e  // " \ /
                    }
                dst.storeBytes(of: decoded, toByteOffset: o, as: UInt8.self)
                o += 1
                j += 2
                continue
            }
            var scalar = hex4(at: j + 2)
            j += 6
            if scalar >= 0xD800 && scalar < 0xDC00 {
                // A high surrogate: pair it with a following \uDC00–\uDFFF, else replace it.
                if j + 6 <= stop && byte(j) == backslash && byte(j + 1) == 0x75 {
                    let low = hex4(at: j + 2)
                    if low >= 0xDC00 && low < 0xE000 {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        j += 6
                    } else {
                        scalar = 0xFFFD
                    }
                } else {
                    scalar = 0xFFFD
                }
            } else if scalar >= 0xDC00 && scalar < 0xE000 {
                scalar = 0xFFFD
            }
            o += storeUTF8(scalar, into: dst + o)
        }
        return o
    }

    func hex4(at offset: Int) -> UInt32 {
        var v: UInt32 = 0
        for k in 0..<4 { v = v << 4 | UInt32(hexValue(byte(offset + k))) }
        return v
    }

    // MARK: Numbers

    /// Reads a number per JSON's grammar (plus `-Infinity`).
    mutating func readNumber() throws(JSONError) -> JSONValue {
        let start = i
        var negative = false
        if byte(i) == 0x2D {
            negative = true
            i += 1
            guard i < end else { throw JSONError(.unexpectedEnd, offset: i) }
            if byte(i) == 0x49 {
                try expectLiteral("Infinity")
                return .double(-.infinity)
            }
        }
        // Integer part, accumulated negatively so that Int.min fits.
        var acc = 0
        var overflow = false
        var mantissa: UInt64 = 0
        var mantissaDigits = 0
        let first = byte(i)
        if first == 0x30 {
            i += 1
        } else if first >= 0x31 && first <= 0x39 {
            while i < end {
                let d = Int(byte(i)) &- 0x30
                guard d >= 0 && d <= 9 else { break }
                if !overflow {
                    let (m, o1) = acc.multipliedReportingOverflow(by: 10)
                    let (s, o2) = m.subtractingReportingOverflow(d)
                    if o1 || o2 { overflow = true } else { acc = s }
                }
                if mantissaDigits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(d)
                    mantissaDigits += 1
                } else {
                    mantissaDigits += 1  // marks the fast double path as unusable
                }
                i += 1
            }
        } else {
            throw error(.invalidNumber, at: i)
        }
        var isDouble = false
        var exponent = 0
        if i < end && byte(i) == 0x2E {  // .
            isDouble = true
            i += 1
            let fractionStart = i
            while i < end, case let d = Int(byte(i)) &- 0x30, d >= 0 && d <= 9 {
                if mantissaDigits < 19 {
                    if mantissa != 0 || d != 0 { mantissaDigits += 1 }
                    mantissa = mantissa &* 10 &+ UInt64(d)
                    exponent -= 1
                } else {
                    mantissaDigits += 1
                }
                i += 1
            }
            guard i > fractionStart else { throw i < end ? error(.invalidNumber, at: i) : JSONError(.unexpectedEnd, offset: i) }
        }
        if i < end && (byte(i) == 0x65 || byte(i) == 0x45) {  // e E
            isDouble = true
            i += 1
            var exponentNegative = false
            if i < end && (byte(i) == 0x2B || byte(i) == 0x2D) {
                exponentNegative = byte(i) == 0x2D
                i += 1
            }
            let exponentStart = i
            var e = 0
            while i < end, case let d = Int(byte(i)) &- 0x30, d >= 0 && d <= 9 {
                if e < 100_000 { e = e * 10 + d }
                i += 1
            }
            guard i > exponentStart else { throw i < end ? error(.invalidNumber, at: i) : JSONError(.unexpectedEnd, offset: i) }
            exponent += exponentNegative ? -e : e
        }
        if !isDouble {
            if !overflow {
                if negative { return .int(acc) }
                if acc != .min { return .int(-acc) }
            }
            return .bigInt(makeString(from: start, count: i - start))
        }
        // Clinger's fast path: exact when the mantissa and the power of ten are both exact doubles.
        if mantissaDigits <= 15 && exponent >= -22 && exponent <= 22 {
            var d = Double(mantissa)
            d = exponent < 0 ? d / powersOfTen[-exponent] : d * powersOfTen[exponent]
            return .double(negative ? -d : d)
        }
        let text = makeString(from: start, count: i - start)
        guard let d = Double(text) else { throw error(.invalidNumber, at: start) }
        return .double(d)
    }
}

private let powersOfTen: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]

/// A cheap hash of a key's bytes, only used to skip most string comparisons in duplicate checks.
private func quickHash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
    var hash = UInt64(bytes.count) &* 0x9E37_79B9_7F4A_7C15
    var k = 0
    let raw = UnsafeRawBufferPointer(bytes)
    while k + 8 <= bytes.count {
        hash = (hash ^ raw.loadUnaligned(fromByteOffset: k, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
        hash ^= hash >> 29
        k += 8
    }
    while k < bytes.count {
        hash = (hash ^ UInt64(bytes[k])) &* 0x0000_0100_0000_01B3
        k += 1
    }
    return hash
}

/// The value of an ASCII hex digit, or -1.
@inline(__always) private func hexValue(_ c: UInt8) -> Int {
    switch c {
    case 0x30...0x39: Int(c) - 0x30
    case 0x41...0x46: Int(c) - 0x41 + 10
    case 0x61...0x66: Int(c) - 0x61 + 10
    default: -1
    }
}

/// Writes a scalar (never a surrogate) as UTF-8; returns the number of bytes written.
@inline(__always) private func storeUTF8(_ scalar: UInt32, into p: UnsafeMutableRawPointer) -> Int {
    switch scalar {
    case ..<0x80:
        p.storeBytes(of: UInt8(scalar), as: UInt8.self)
        return 1
    case ..<0x800:
        p.storeBytes(of: UInt8(0xC0 | scalar >> 6), as: UInt8.self)
        p.storeBytes(of: UInt8(0x80 | scalar & 0x3F), toByteOffset: 1, as: UInt8.self)
        return 2
    case ..<0x10000:
        p.storeBytes(of: UInt8(0xE0 | scalar >> 12), as: UInt8.self)
        p.storeBytes(of: UInt8(0x80 | scalar >> 6 & 0x3F), toByteOffset: 1, as: UInt8.self)
        p.storeBytes(of: UInt8(0x80 | scalar & 0x3F), toByteOffset: 2, as: UInt8.self)
        return 3
    default:
        p.storeBytes(of: UInt8(0xF0 | scalar >> 18), as: UInt8.self)
        p.storeBytes(of: UInt8(0x80 | scalar >> 12 & 0x3F), toByteOffset: 1, as: UInt8.self)
        p.storeBytes(of: UInt8(0x80 | scalar >> 6 & 0x3F), toByteOffset: 2, as: UInt8.self)
        p.storeBytes(of: UInt8(0x80 | scalar & 0x3F), toByteOffset: 3, as: UInt8.self)
        return 4
    }
}
