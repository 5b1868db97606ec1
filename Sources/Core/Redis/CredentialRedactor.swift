/// Masks credentials in arbitrary text before it is printed: the `user:password@` of any URL
/// (`redis://`, `rediss://`, `sentinel://`, `unix://`, `amqp://`, …), a `password=` value (a kombu
/// query parameter) and the word after `--password`.
///
/// Error messages and log lines are built from values the user gave (a config file's line, a
/// mistyped setting, a URL that did not parse), so every boundary where text leaves the process
/// (``ConfigError``, ``RedisError``, the log handler, `qworker`/`qmon`'s error lines) passes it
/// through ``redact(_:)``. A ``RedisURL`` prints itself redacted already; this is for the text
/// around it. The output of ``redact(_:)`` is a fixed point: redacting it again changes nothing.
///
/// What it masks, and why:
/// - In `scheme://userinfo@host`, the user name is kept and everything after its first `:` up to
///   the last `@` of the URL becomes `***` (`redis://alice:***@h:6379/0`), as Celery shows
///   `redis://:**@host`. A password may hold `@`, `:` and quotes unescaped (redis-py and kombu,
///   like ``RedisURL``, split user info at the *last* `@`), so the URL runs to the next space.
/// - Userinfo without a `:` is masked whole (`redis://***@h`): Redis has no AUTH by user name
///   alone, so a lone name is most likely a password written without its leading colon.
/// - When the text after `://` is not a plain `host[:port]` and has no `@` before the next
///   space (a password with a space: `redis://:my pass@h`), the user info runs to the last `@` on
///   the line; with no `@` at all (`redis://:secret`), what follows the first `:` is masked.
/// - `password=value` (any case, also `db_password=`, `--password=value`) and `--password value`
///   lose the value, up to the next space, `&`, `;` or `#` (less a closing quote).
/// - Left alone: user info beginning with `[`, which no URL has, so usage text such as
///   `redis://[[user]:password@]host` reads as written.
///
/// Not covered: a password holding both a space and an `@` after that space with nothing to
/// tell its end from the host's; ``RedisURL`` itself never prints such text.
public enum CredentialRedactor {
    /// What replaces a secret.
    public static let mask = "***"

    /// Returns `text` with every credential it can find replaced by ``mask``.
    ///
    /// - Parameter text: Any text: an error message, a log line, a config line.
    /// - Returns: The text with URL user info (`user:***@`) and password values (`password=***`)
    ///   masked; text without `://` or `password` is returned unchanged without copying.
    public static func redact(_ text: String) -> String {
        // Every log line comes through here: one pass without copying decides whether to look closer.
        guard mayHoldCredentials(text.utf8) else { return text }
        var bytes = Array(text.utf8)
        bytes = redactURLs(bytes)
        bytes = redactPasswordValues(bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether `utf8` contains `://` or `password` (any case).
    private static func mayHoldCredentials(_ utf8: String.UTF8View) -> Bool {
        var previous: (UInt8, UInt8) = (0, 0)
        var passwordMatched = 0
        for byte in utf8 {
            if byte == UInt8(ascii: "/"), previous == (UInt8(ascii: ":"), UInt8(ascii: "/")) { return true }
            previous = (previous.1, byte)
            let lower = lowercased(byte)
            if lower == passwordWord[passwordMatched] {
                passwordMatched += 1
                if passwordMatched == passwordWord.count { return true }
            } else {
                passwordMatched = lower == passwordWord[0] ? 1 : 0
            }
        }
        return false
    }

    // MARK: - URLs

    private static let schemeSeparator: [UInt8] = Array("://".utf8)
    private static let maskBytes: [UInt8] = Array(mask.utf8)

    /// Each URL's user info, from just after `://` to (not including) its `@`, masked.
    private static func redactURLs(_ bytes: [UInt8]) -> [UInt8] {
        // Where each `scheme://` begins its authority (just after `://`); a `://` needs a scheme
        // character (letter, digit, `+`, `-`, `.`) before it to count, or the `*` of a mask, so
        // that `redis://:***://***@h` (a password holding `://`, masked) is read the same again.
        var starts: [Int] = []
        var from = 0
        while let found = bytes[from...].firstRange(of: schemeSeparator) {
            if found.lowerBound > 0, isSchemeByte(bytes[found.lowerBound - 1]) || bytes[found.lowerBound - 1] == UInt8(ascii: "*") {
                starts.append(found.upperBound)
            }
            from = found.upperBound
        }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var copied = 0
        for (i, start) in starts.enumerated() where start >= copied {
            // The URL cannot run past the end of its line or into the next URL.
            let nextURL = i + 1 < starts.count ? starts[i + 1] - schemeSeparator.count : bytes.count
            let lineEnd = bytes[start..<nextURL].firstIndex { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") } ?? nextURL
            // `redis://[[user]:password@]host` is a usage line's placeholder, not a URL: user info
            // cannot begin with `[` (an IPv6 host's bracket comes after the `@`).
            guard let userinfo = userinfoRange(bytes, start: start, limit: lineEnd),
                bytes[userinfo].first != UInt8(ascii: "[")
            else { continue }
            out += bytes[copied..<userinfo.lowerBound]
            out += maskedUserinfo(bytes[userinfo])
            copied = userinfo.upperBound
        }
        out += bytes[copied...]
        return out
    }

    /// The user info of the URL whose authority starts at `start`, or `nil` when it has none.
    private static func userinfoRange(_ bytes: [UInt8], start: Int, limit: Int) -> Range<Int>? {
        let tokenEnd = bytes[start..<limit].firstIndex(where: isSpace) ?? limit
        if let at = bytes[start..<tokenEnd].lastIndex(of: UInt8(ascii: "@")) { return start..<at }
        let authorityEnd = bytes[start..<tokenEnd].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? tokenEnd
        let authority = bytes[start..<authorityEnd]
        if isHostAndPort(authority) { return nil }
        // Not a host: a password with a space runs to the line's last `@`; without any `@`, what
        // follows the first `:` is what may be secret.
        if let at = bytes[start..<limit].lastIndex(of: UInt8(ascii: "@")) { return start..<at }
        return start..<withoutClosingQuote(bytes, start..<authorityEnd)
    }

    /// `range`'s end, less one closing quote: in `not 'redis://:x'` the quote is the message's.
    /// (A password that ends in a quote shows only that character.)
    private static func withoutClosingQuote(_ bytes: [UInt8], _ range: Range<Int>) -> Int {
        guard let last = bytes[range].last, last == UInt8(ascii: "'") || last == UInt8(ascii: "\"") else { return range.upperBound }
        return range.upperBound - 1
    }

    /// `user:***` for `user:anything`, else `***` (a lone name may be a misplaced password).
    private static func maskedUserinfo(_ userinfo: ArraySlice<UInt8>) -> [UInt8] {
        if let colon = userinfo.firstIndex(of: UInt8(ascii: ":")) {
            return Array(userinfo[..<colon]) + [UInt8(ascii: ":")] + maskBytes
        }
        return maskBytes
    }

    /// Whether an authority without `@` reads as `host`, `host:port`, `:port`, `[v6]` or
    /// `[v6]:port` (digits only), so there is nothing secret in it.
    private static func isHostAndPort(_ authority: ArraySlice<UInt8>) -> Bool {
        let isDigits = { (s: ArraySlice<UInt8>) in s.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") } }
        if authority.first == UInt8(ascii: "[") {
            guard let close = authority.firstIndex(of: UInt8(ascii: "]")) else { return false }
            let after = authority[(close + 1)...]
            return after.isEmpty || (after.first == UInt8(ascii: ":") && isDigits(after.dropFirst()))
        }
        let colons = authority.indices.filter { authority[$0] == UInt8(ascii: ":") }
        switch colons.count {
        case 0: return true
        case 1: return isDigits(authority[(colons[0] + 1)...])
        default: return false
        }
    }

    // MARK: - password=value, --password value

    private static let passwordWord: [UInt8] = Array("password".utf8)

    /// Masks the value after each `password=` and `--password ` (the word in any case).
    private static func redactPasswordValues(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var copied = 0
        var from = 0
        while let word = lowercasedRange(of: passwordWord, in: bytes, from: from) {
            from = word.upperBound
            var valueStart = word.upperBound
            if valueStart < bytes.count, bytes[valueStart] == UInt8(ascii: "=") {
                valueStart += 1
            } else if word.lowerBound >= 2, bytes[word.lowerBound - 2] == UInt8(ascii: "-"), bytes[word.lowerBound - 1] == UInt8(ascii: "-"),
                valueStart < bytes.count, isSpace(bytes[valueStart])
            {
                valueStart = bytes[valueStart...].firstIndex { !isSpace($0) } ?? bytes.count
            } else {
                continue
            }
            let valueEnd = bytes[valueStart...].firstIndex { isSpace($0) || $0 == UInt8(ascii: "&") || $0 == UInt8(ascii: ";") || $0 == UInt8(ascii: "#") } ?? bytes.count
            let maskedEnd = withoutClosingQuote(bytes, valueStart..<valueEnd)
            guard maskedEnd > valueStart else { continue }
            out += bytes[copied..<valueStart]
            out += maskBytes
            copied = maskedEnd
            from = valueEnd
        }
        out += bytes[copied...]
        return out
    }

    // MARK: - Bytes

    private static func lowercasedRange(of word: [UInt8], in bytes: [UInt8], from: Int) -> Range<Int>? {
        guard bytes.count - from >= word.count else { return nil }
        var i = from
        while i + word.count <= bytes.count {
            var matched = true
            for j in 0..<word.count where lowercased(bytes[i + j]) != word[j] {
                matched = false
                break
            }
            if matched { return i..<(i + word.count) }
            i += 1
        }
        return nil
    }

    private static func lowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
    }

    private static func isWordByte(_ byte: UInt8) -> Bool {
        let lower = lowercased(byte)
        return (lower >= UInt8(ascii: "a") && lower <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "_")
    }

    private static func isSchemeByte(_ byte: UInt8) -> Bool {
        isWordByte(byte) && byte != UInt8(ascii: "_") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: ".")
    }
}
