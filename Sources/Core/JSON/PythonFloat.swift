/// Formats a `Double` exactly as Python's `repr(float)` does.
///
/// Both languages print the shortest digits that round-trip (closest to the exact value on
/// ties), but they place the exponent differently: Python uses fixed notation iff the decimal
/// point position `decpt` (value = 0.d₁d₂… × 10^decpt) satisfies -4 < decpt <= 16, adds `.0`
/// to integral values, and writes the exponent with a sign and at least two digits
/// (`1e-05`, `1e+16`). Swift's `description` switches to exponent form from 2^53 on. So we take
/// the digits from Swift and lay them out the Python way; celery readers then see a float
/// where Python wrote a float (`2.0`, not `2`).
public enum PythonFloat {
    /// The text Python's `repr` gives for `value`: `NaN`-style names are `nan`, `inf`, `-inf`.
    ///
    /// JSON uses other names for the non-finite values; ``JSONWriter`` handles those itself.
    ///
    /// - Parameter value: Any double.
    /// - Returns: For example `0.1`, `2.0`, `-0.0`, `1e-05`, `1e+16`, `1.2345678901234568e+17`.
    public static func repr(_ value: Double) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        write(value, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends ``repr(_:)`` of `value` to `buffer` as ASCII bytes.
    ///
    /// - Parameters:
    ///   - value: Any double.
    ///   - buffer: Where the text is appended.
    public static func write(_ value: Double, into buffer: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { out in
            let n = write(value, to: out.baseAddress!)
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: out[..<n]))
        }
    }

    /// Writes ``repr(_:)`` of `value` at `out`, which must have room for 32 bytes.
    ///
    /// - Returns: The number of bytes written (at most 24).
    static func write(_ value: Double, to out: UnsafeMutablePointer<UInt8>) -> Int {
        var o = 0
        func put(_ byte: UInt8) {
            out[o] = byte
            o += 1
        }
        guard value.isFinite else {
            if value.isNaN {
                put(0x6E); put(0x61); put(0x6E)  // nan
            } else {
                if value < 0 { put(0x2D) }
                put(0x69); put(0x6E); put(0x66)  // inf
            }
            return o
        }
        if value.sign == .minus { put(0x2D) }
        if value == 0 {
            put(0x30); put(0x2E); put(0x30)  // 0.0
            return o
        }
        // Shortest round-trip digits from Swift, in whatever layout Swift chose:
        // "123.45", "0.0001", "1e-05", "1.2345678901234568e+17".
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of stack, enough for 17 digits
        return withUnsafeMutableBytes(of: &digits) { raw in
            let digits = raw.bindMemory(to: UInt8.self)
            var text = value.magnitude.description
            let (first, count, decpt) = text.withUTF8 { utf8 in
                var count = 0
                var integerDigits = -1  // digits before '.', once seen
                var exponent = 0
                var k = 0
                while k < utf8.count {
                    let c = utf8[k]
                    if c == 0x2E {
                        integerDigits = count
                    } else if c == 0x65 || c == 0x45 {
                        var negative = false
                        k += 1
                        if utf8[k] == 0x2D || utf8[k] == 0x2B {
                            negative = utf8[k] == 0x2D
                            k += 1
                        }
                        while k < utf8.count {
                            exponent = exponent * 10 + Int(utf8[k] &- 0x30)
                            k += 1
                        }
                        if negative { exponent = -exponent }
                        break
                    } else if count < digits.count {
                        digits[count] = c
                        count += 1
                    }
                    k += 1
                }
                if integerDigits < 0 { integerDigits = count }
                var decpt = integerDigits + exponent
                // Normalise to d1 != 0 and no trailing zeros.
                var first = 0
                while first < count - 1 && digits[first] == 0x30 {
                    first += 1
                    decpt -= 1
                }
                while count > first + 1 && digits[count - 1] == 0x30 { count -= 1 }
                return (first, count, decpt)
            }
            let significant = UnsafeBufferPointer(rebasing: digits[first..<count])
            return o + layOut(significant, decpt: decpt, to: out + o)
        }
    }

    /// Places the digits the way Python's `float_repr_style = 'short'` does; returns bytes written.
    private static func layOut(_ digits: UnsafeBufferPointer<UInt8>, decpt: Int, to out: UnsafeMutablePointer<UInt8>) -> Int {
        var o = 0
        func put(_ byte: UInt8) {
            out[o] = byte
            o += 1
        }
        func put(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) {
            for b in bytes { put(b) }
        }
        let n = digits.count
        if decpt <= -4 || decpt > 16 {
            put(digits[0])
            if n > 1 {
                put(0x2E)
                put(digits[1...])
            }
            put(0x65)  // e
            let e = decpt - 1
            put(e < 0 ? 0x2D : 0x2B)
            let magnitude = e.magnitude
            if magnitude < 10 { put(0x30) }
            if magnitude >= 100 { put(UInt8(truncatingIfNeeded: 0x30 + magnitude / 100)) }
            if magnitude >= 10 { put(UInt8(truncatingIfNeeded: 0x30 + magnitude / 10 % 10)) }
            put(UInt8(truncatingIfNeeded: 0x30 + magnitude % 10))
        } else if decpt <= 0 {
            put(0x30)
            put(0x2E)
            for _ in 0..<(-decpt) { put(0x30) }
            put(digits[...])
        } else if decpt < n {
            put(digits[..<decpt])
            put(0x2E)
            put(digits[decpt...])
        } else {
            put(digits[...])
            for _ in 0..<(decpt - n) { put(0x30) }
            put(0x2E)
            put(0x30)
        }
        return o
    }
}
