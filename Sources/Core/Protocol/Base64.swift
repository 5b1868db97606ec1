/// Standard-alphabet base64 as kombu writes and reads envelope bodies.
///
/// kombu encodes with `base64.b64encode` (alphabet `+/`, `=` padding, no line breaks) and
/// decodes with `base64.b64decode`, which skips whitespace but rejects missing padding.
/// Hand-written so decoding a 100 MB body is one linear pass over bytes with no
/// intermediate `Data` or `String`.
enum Base64 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// 255 marks a byte that is not in the alphabet.
    private static let reverse: [UInt8] = {
        var table = [UInt8](repeating: 255, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = UInt8(i) }
        return table
    }()

    static func encode(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        encode(bytes, into: &out)
        return out
    }

    static func encode(_ input: [UInt8], into out: inout [UInt8]) {
        let start = out.count
        let count = encodedCount(input.count)
        // Grow once and write through a pointer: appending byte by byte was most of the cost of
        // encoding the worker's event batches.
        out.append(contentsOf: repeatElement(0, count: count))
        out.withUnsafeMutableBufferPointer { whole in
            input.withUnsafeBufferPointer { bytes in encode(bytes, to: whole.baseAddress! + start) }
        }
    }

    /// The length of the encoding of `count` bytes, padding included.
    static func encodedCount(_ count: Int) -> Int { (count + 2) / 3 * 4 }

    /// Writes the encoding of `input` to `o`, which must have room for ``encodedCount(_:)``
    /// bytes: for writers that size their output once (``TaskMessageWriter``).
    static func encode(_ input: UnsafeBufferPointer<UInt8>, to o: UnsafeMutablePointer<UInt8>) {
        alphabet.withUnsafeBufferPointer { a in
            let n = input.count
            var i = 0
            var j = 0
            while i + 3 <= n {
                let v = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
                o[j] = a[Int(v >> 18 & 63)]
                o[j + 1] = a[Int(v >> 12 & 63)]
                o[j + 2] = a[Int(v >> 6 & 63)]
                o[j + 3] = a[Int(v & 63)]
                i += 3
                j += 4
            }
            let rest = n - i
            if rest == 1 {
                let v = UInt32(input[i]) << 16
                o[j] = a[Int(v >> 18 & 63)]
                o[j + 1] = a[Int(v >> 12 & 63)]
                o[j + 2] = UInt8(ascii: "=")
                o[j + 3] = UInt8(ascii: "=")
            } else if rest == 2 {
                let v = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8
                o[j] = a[Int(v >> 18 & 63)]
                o[j + 1] = a[Int(v >> 12 & 63)]
                o[j + 2] = a[Int(v >> 6 & 63)]
                o[j + 3] = UInt8(ascii: "=")
            }
        }
    }

    static func decode<C: Collection>(_ input: C) -> [UInt8]? where C.Element == UInt8 {
        if let fast = input.withContiguousStorageIfAvailable({ decodeBuffer($0) }) { return fast }
        return Array(input).withUnsafeBufferPointer { decodeBuffer($0) }
    }

    private static func decodeBuffer(_ input: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        reverse.withUnsafeBufferPointer { reverse in decodeBuffer(input, reverse: reverse) }
    }

    private static func decodeBuffer(_ input: UnsafeBufferPointer<UInt8>, reverse: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        // Fast path: whole quads of alphabet characters written straight into the output,
        // four lookups and three stores each (appending byte by byte was the largest single
        // cost of decoding a monitor's event batches). It stops at the first quad holding
        // anything else (whitespace, padding, a foreign byte: all 255 in `reverse`), and
        // the general loop below takes over from that quad boundary.
        var consumed = 0
        var out = [UInt8](unsafeUninitializedCapacity: input.count / 4 * 3) { buffer, written in
            var i = 0, o = 0
            let n = input.count
            while i + 4 <= n {
                let a = reverse[Int(input[i])], b = reverse[Int(input[i + 1])]
                let c = reverse[Int(input[i + 2])], d = reverse[Int(input[i + 3])]
                if (a | b | c | d) & 0x80 != 0 { break }
                let v = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                buffer[o] = UInt8(truncatingIfNeeded: v >> 16)
                buffer[o + 1] = UInt8(truncatingIfNeeded: v >> 8)
                buffer[o + 2] = UInt8(truncatingIfNeeded: v)
                o += 3
                i += 4
            }
            written = o
            consumed = i
        }
        var quad: UInt32 = 0
        var filled = 0
        var padding = 0
        var done = false
        for c in UnsafeBufferPointer(rebasing: input[consumed...]) {
            if c == UInt8(ascii: " ") || c == UInt8(ascii: "\n") || c == UInt8(ascii: "\r") || c == UInt8(ascii: "\t") {
                continue
            }
            guard !done else { return nil }
            if c == UInt8(ascii: "=") {
                // Padding may only fill the last one or two places of the final quad.
                guard filled >= 2 else { return nil }
                padding += 1
                quad <<= 6
            } else {
                let v = reverse[Int(c)]
                guard v != 255, padding == 0 else { return nil }
                quad = quad << 6 | UInt32(v)
            }
            filled += 1
            if filled == 4 {
                out.append(UInt8(truncatingIfNeeded: quad >> 16))
                if padding < 2 { out.append(UInt8(truncatingIfNeeded: quad >> 8)) }
                if padding < 1 { out.append(UInt8(truncatingIfNeeded: quad)) }
                done = padding > 0
                filled = 0
                quad = 0
            }
        }
        // A partial quad means missing padding, which Python's b64decode rejects too.
        guard filled == 0 else { return nil }
        return out
    }
}
