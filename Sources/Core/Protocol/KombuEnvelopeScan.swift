/// The top level of a kombu envelope read by the fast decoders (``EventFastDecoder``,
/// ``TaskMessageFastDecoder``) without building its ``JSONValue`` tree.
///
/// Reads `{"body": ..., "content-encoding": ..., "content-type": ..., "headers": {...},
/// "properties": {...}}` in any order, skipping unknown keys. It accepts only what the general
/// path (``KombuEnvelope/decode(_:maxSize:)``) would read the same way: a JSON content type (or
/// none), an unescaped body, each known key at most once; `headers` and `properties` are handed
/// to the caller's readers, which must consume exactly their value.
enum KombuEnvelopeScan {
    /// The body token (still base64 or raw, as the properties say), or `nil` when the general
    /// path must decide. `headers`/`properties` read their object and return `false` to
    /// decline; with `requireHeadersAndProperties` an envelope without both declines too.
    static func body(
        _ c: inout JSONCursor, requireHeadersAndProperties: Bool,
        headers: (inout JSONCursor) -> Bool, properties: (inout JSONCursor) -> Bool
    ) -> JSONCursor.StringToken? {
        guard c.expect(0x7B) else { return nil }  // {
        c.skipWhitespace()
        if c.current == 0x7D { return nil }  // {} has no body
        var body: JSONCursor.StringToken?
        var seen: UInt8 = 0
        repeat {
            guard let key = c.string(), !key.hasEscapes, c.expect(0x3A) else { return nil }
            let bit: UInt8
            if c.matches(key, "body") {
                bit = 1
                guard let t = c.string(), !t.hasEscapes else { return nil }
                body = t
            } else if c.matches(key, "content-type") {
                bit = 2
                // The general path accepts only JSON bodies (or an empty type).
                guard let t = c.string(),
                    c.matches(t, "application/json") || c.matches(t, "application/x-json") || t.count == 0
                else { return nil }
            } else if c.matches(key, "content-encoding") {
                bit = 4
                guard c.string() != nil else { return nil }
            } else if c.matches(key, "headers") {
                bit = 8
                guard headers(&c) else { return nil }
            } else if c.matches(key, "properties") {
                bit = 16
                guard properties(&c) else { return nil }
            } else {
                bit = 0
                guard c.skipValue() else { return nil }
            }
            // A repeated key the general parser would resolve (last value wins): leave it to it.
            if seen & bit != 0 { return nil }
            seen |= bit
        } while c.expect(0x2C)
        guard c.expect(0x7D), c.atEndOfDocument() else { return nil }
        if requireHeadersAndProperties && seen & 24 != 24 { return nil }
        return body
    }

    /// Reads the object at the cursor, calling `member` with each key (unescaped; an escaped
    /// key declines) and the cursor at its value; `member` consumes the value or returns `false`.
    static func members(_ c: inout JSONCursor, _ member: (JSONCursor.StringToken, inout JSONCursor) -> Bool) -> Bool {
        guard c.expect(0x7B) else { return false }
        c.skipWhitespace()
        if c.current == 0x7D {
            c.i += 1
            return true
        }
        repeat {
            guard let key = c.string(), !key.hasEscapes, c.expect(0x3A), member(key, &c) else { return false }
        } while c.expect(0x2C)
        return c.expect(0x7D)
    }
}
