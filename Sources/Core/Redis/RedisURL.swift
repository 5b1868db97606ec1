/// Where and how to reach a Redis server, parsed from the URL forms kombu (Celery's transport
/// library) accepts, so the same broker URL works for Python and Swift workers.
///
/// Accepted forms:
/// - `redis://[[user]:password@]host[:port][/db][?db=N]` (defaults `localhost`, `6379`, db `0`)
/// - `unix:///path/to/redis.sock[?db=N]` and `redis+socket:///path[?db=N]`, optionally with
///   `:password@` before the path or `password=` in the query
///
/// `rediss://` is rejected because hiredis 0.14 has no TLS support.
///
/// ``description`` is redacted (`redis://:***@127.0.0.1:6390/0`), so a `RedisURL` may be
/// logged or interpolated into errors freely; `dump` and `debugPrint` are redacted too. Text
/// that is not (yet) a `RedisURL` is masked by ``CredentialRedactor``.
public struct RedisURL: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// How to reach the server.
    public enum Endpoint: Sendable, Hashable {
        case tcp(host: String, port: Int)
        case unix(path: String)
    }

    /// How to reach the server.
    public var endpoint: Endpoint
    /// The database selected after connecting (`SELECT`), 0 by default.
    public var database: Int
    /// The ACL user name, or `nil` for the default user.
    public var username: String?
    /// The password; never printed.
    public var password: String?

    /// Creates a URL from parts.
    public init(endpoint: Endpoint, database: Int = 0, username: String? = nil, password: String? = nil) {
        self.endpoint = endpoint
        self.database = database
        self.username = username
        self.password = password
    }

    /// Parses a kombu-style Redis URL.
    ///
    /// - Parameter string: The URL, e.g. `redis://:secret@127.0.0.1:6390/2`.
    /// - Throws: ``RedisError`` with code ``RedisError/Code/invalidURL``; the message never
    ///   repeats the password, nor any part of a URL that holds credentials (a password with an
    ///   unescaped `/`, `?` or `#` splits where the port or database is read, so those parts may
    ///   be pieces of it).
    public init(parsing string: String) throws(RedisError) {
        let quoting = Quoting(url: string)
        do {
            try self.init(parsing: string, quoting: quoting)
        } catch {
            guard quoting.mayHoldCredentials, let afterScheme = string.firstRange(of: "://")?.upperBound else { throw error }
            // `redis://:ab/cd@host`: the `@` sits past the first `/`, `?` or `#`, so the password
            // was cut there; say so, since the message cannot show where.
            let authorityEnd = string[afterScheme...].firstIndex { "/?#".contains($0) } ?? string.endIndex
            guard !string[afterScheme..<authorityEnd].contains("@") else { throw error }
            throw RedisError(.invalidURL, error.message
                + "; if the password holds '/', '?' or '#', write them percent-encoded (%2F, %3F, %23)")
        }
    }

    /// How parse errors quote the URL's parts: not at all when the URL may hold credentials.
    private struct Quoting {
        /// The URL has user info (`@`) or a `password=` parameter.
        let mayHoldCredentials: Bool

        init(url: String) {
            mayHoldCredentials = url.contains("@") || url.lowercased().contains("password")
        }

        private static let withheld = " (the text is not repeated: the URL holds credentials)"

        /// `, not 'text'` after what was expected, or words saying it is not repeated.
        func not(_ text: some StringProtocol) -> String {
            mayHoldCredentials ? Self.withheld : ", not '\(text)'"
        }

        /// ` 'text'` after a noun, or words saying it is not repeated.
        func named(_ text: some StringProtocol) -> String {
            mayHoldCredentials ? Self.withheld : " '\(text)'"
        }
    }

    private init(parsing string: String, quoting: Quoting) throws(RedisError) {
        guard let schemeEnd = string.firstRange(of: "://") else {
            throw Self.invalid("missing scheme; expected redis://, unix:// or redis+socket://")
        }
        let scheme = string[..<schemeEnd.lowerBound].lowercased()
        var rest = Substring(string[schemeEnd.upperBound...])
        if let hash = rest.firstIndex(of: "#") {
            // A fragment means nothing to Redis; one holding `@` is the rest of a password that
            // had a `#` in it (`redis://secret#x@h`), and dropping it would connect to "secret".
            guard !rest[hash...].contains("@") else { throw Self.invalid("an '@' follows a '#'") }
            rest = rest[..<hash]
        }
        var query: Substring = ""
        if let question = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: question)...]
            rest = rest[..<question]
        }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        let path = rest[slash...]

        var hostPort = authority
        var username: String?
        var password: String?
        if let at = authority.lastIndex(of: "@") {
            let userinfo = authority[..<at]
            hostPort = authority[authority.index(after: at)...]
            if let colon = userinfo.firstIndex(of: ":") {
                username = try Self.decode(userinfo[..<colon], what: "user name")
                password = try Self.decode(userinfo[userinfo.index(after: colon)...], what: "password")
            } else {
                username = try Self.decode(userinfo, what: "user name")
            }
        }

        var database = 0
        switch scheme {
        case "redis":
            let (host, port) = try Self.parseHostPort(hostPort, quoting: quoting)
            let dbText = path.drop(while: { $0 == "/" })
            if !dbText.isEmpty {
                guard let db = Int(dbText), db >= 0 else {
                    throw Self.invalid("database must be a non-negative number\(quoting.not(dbText))")
                }
                database = db
            }
            endpoint = .tcp(host: host, port: port)
        case "unix", "redis+socket":
            let socketPath = try Self.decode(path, what: "socket path")
            guard socketPath.count > 1 else {
                throw Self.invalid("a unix socket URL needs a path, e.g. unix:///run/redis/redis.sock")
            }
            endpoint = .unix(path: socketPath)
        case "rediss":
            throw Self.invalid("rediss:// (TLS) is not supported by hiredis 0.14; use redis:// or a unix socket")
        default:
            throw Self.invalid("unsupported scheme\(quoting.named(scheme + "://")); expected redis://, unix:// or redis+socket://")
        }

        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = parts[0]
            let value = parts.count > 1 ? parts[1] : ""
            switch key {
            case "db", "virtual_host":
                guard let db = Int(value), db >= 0 else {
                    throw Self.invalid("database must be a non-negative number\(quoting.not(value))")
                }
                database = db
            case "password":
                password = try Self.decode(value, what: "password")
            case "username":
                username = try Self.decode(value, what: "user name")
            default:
                // kombu passes transport options through the query; they are not ours to judge.
                continue
            }
        }

        self.database = database
        self.username = username?.isEmpty == true ? nil : username
        self.password = password?.isEmpty == true ? nil : password
    }

    /// The URL with the password replaced by `***`; a user name without a password is masked
    /// too (`redis://***@h:6379/0`): Redis has no AUTH by name alone, so such a name is most
    /// likely a password written without its leading `:`. ``CredentialRedactor`` masks the same way.
    public var description: String {
        var userinfo = ""
        if let username { userinfo += password == nil ? CredentialRedactor.mask : Self.encode(username) }
        if password != nil { userinfo += ":" + CredentialRedactor.mask }
        if !userinfo.isEmpty { userinfo += "@" }
        switch endpoint {
        case .tcp(let host, let port):
            let shownHost = host.contains(":") ? "[\(host)]" : host
            return "redis://\(userinfo)\(shownHost):\(port)/\(database)"
        case .unix(let path):
            return "unix://\(userinfo)\(path)?db=\(database)"
        }
    }

    /// Same as ``description``: redacted.
    public var debugDescription: String { "RedisURL(\(description))" }

    /// A redacted mirror, so `dump(url)` and test failure output cannot leak the password.
    public var customMirror: Mirror {
        Mirror(
            self,
            children: [
                "endpoint": endpoint, "database": database,
                "username": password == nil && username != nil ? CredentialRedactor.mask : username as Any,
                "password": password == nil ? "nil" : "***",
            ])
    }

    // MARK: - Parsing helpers

    private static func invalid(_ message: String) -> RedisError {
        RedisError(.invalidURL, "invalid Redis URL: \(message)")
    }

    private static func parseHostPort(_ text: Substring, quoting: Quoting) throws(RedisError) -> (String, Int) {
        var host: Substring
        var portText: Substring = ""
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw invalid("unterminated IPv6 address") }
            host = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            if after.hasPrefix(":") {
                portText = after.dropFirst()
            } else if !after.isEmpty {
                throw invalid("unexpected text after IPv6 address")
            }
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        } else {
            host = text
        }
        var port = 6379
        if !portText.isEmpty {
            guard let parsed = Int(portText), (1...65535).contains(parsed) else {
                throw invalid("port must be a number from 1 to 65535\(quoting.not(portText))")
            }
            port = parsed
        }
        if host.isEmpty { host = "localhost" }
        return (String(host), port)
    }

    /// Decodes `%XX` escapes (no `+` → space: that is form encoding, not URL encoding).
    private static func decode(_ text: Substring, what: String) throws(RedisError) -> String {
        guard text.contains("%") else { return String(text) }
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard iterator.count >= 2,
                let value = UInt8(String(decoding: iterator.prefix(2), as: UTF8.self), radix: 16)
            else {
                // Do not echo the text: it may be the password.
                throw invalid("bad percent-escape in the \(what)")
            }
            bytes.append(value)
            iterator = iterator.dropFirst(2)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += byte < 16 ? "%0\(hex)" : "%\(hex)"
            }
        }
        return out
    }
}
