/// Cutting a text the monitor stores to a byte limit.
///
/// Event fields are as long as their sender made them (a 100 KB argument repr, a megabyte of
/// garbage for a hostname); the model keeps a bounded prefix of each, so its memory is bounded
/// in bytes and not only in records.
enum StoredText {
    /// `text` if its UTF-8 fits in `limit` bytes, else its longest prefix that does and ends on
    /// a Unicode scalar boundary (so the cut never leaves half a character).
    ///
    /// - Parameters:
    ///   - text: Any string.
    ///   - limit: Most UTF-8 bytes kept (at least 0).
    @inline(__always)
    static func prefix(_ text: String, bytes limit: Int) -> String {
        if text.utf8.count <= limit { return text }
        return cut(text, bytes: limit)
    }

    private static func cut(_ text: String, bytes limit: Int) -> String {
        let utf8 = text.utf8
        var end = utf8.index(utf8.startIndex, offsetBy: max(limit, 0))
        // Step back over UTF-8 continuation bytes (10xxxxxx) to the start of a scalar.
        while end > utf8.startIndex, utf8[end] & 0xC0 == 0x80 { end = utf8.index(before: end) }
        return String(Substring(utf8[..<end]))
    }
}
