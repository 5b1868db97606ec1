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
        guard value.isFinite else {
            if value.isNaN {
                buffer.append(contentsOf: [0x6E, 0x61, 0x6E])  // nan
            } else {
                if value < 0 { buffer.append(0x2D) }
                buffer.append(contentsOf: [0x69, 0x6E, 0x66])  // inf
            }
            return
        }
        if value.sign == .minus { buffer.append(0x2D) }
        if value == 0 {
            buffer.append(contentsOf: [0x30, 0x2E, 0x30])  // 0.0
            return
        }
        // Shortest round-trip digits from Swift, in whatever layout Swift chose:
        // "123.45", "0.0001", "1e-05", "1.2345678901234568e+17".
        var text = value.magnitude.description
        text.withUTF8 { utf8 in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 24) { digits in
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
                            exponent = exponent * 10 + Int(utf8[k] - 0x30)
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
                // Normalise to d₁ != 0 and no trailing zeros.
                var first = 0
                while first < count - 1 && digits[first] == 0x30 {
                    first += 1
                    decpt -= 1
                }
                while count > first + 1 && digits[count - 1] == 0x30 { count -= 1 }
                let significant = UnsafeMutableBufferPointer(rebasing: digits[first..<count])
                layOut(significant, decpt: decpt, into: &buffer)
            }
        }
    }

    /// Places the digits the way Python's `float_repr_style = 'short'` does.
    private static func layOut(_ digits: UnsafeMutableBufferPointer<UInt8>, decpt: Int, into buffer: inout [UInt8]) {
        let n = digits.count
        if decpt <= -4 || decpt > 16 {
            buffer.append(digits[0])
            if n > 1 {
                buffer.append(0x2E)
                buffer.append(contentsOf: digits[1...])
            }
            buffer.append(0x65)  // e
            let e = decpt - 1
            buffer.append(e < 0 ? 0x2D : 0x2B)
            let magnitude = e.magnitude
            if magnitude < 10 { buffer.append(0x30) }
            if magnitude >= 100 { buffer.append(UInt8(truncatingIfNeeded: 0x30 + magnitude / 100)) }
            if magnitude >= 10 { buffer.append(UInt8(truncatingIfNeeded: 0x30 + magnitude / 10 % 10)) }
            buffer.append(UInt8(truncatingIfNeeded: 0x30 + magnitude % 10))
        } else if decpt <= 0 {
            buffer.append(0x30)
            buffer.append(0x2E)
            for _ in 0..<(-decpt) { buffer.append(0x30) }
            buffer.append(contentsOf: digits)
        } else if decpt < n {
            buffer.append(contentsOf: digits[..<decpt])
            buffer.append(0x2E)
            buffer.append(contentsOf: digits[decpt...])
        } else {
            buffer.append(contentsOf: digits)
            for _ in 0..<(decpt - n) { buffer.append(0x30) }
            buffer.append(0x2E)
            buffer.append(0x30)
        }
    }
}
