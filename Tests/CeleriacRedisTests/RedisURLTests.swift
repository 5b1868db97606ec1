import Celeriac
import CeleriacTestTags
import Testing

@Suite("RedisURL parsing", .tags(.integration))
struct RedisURLTests {
    struct Case: Sendable, CustomTestStringConvertible {
        let text: String
        let endpoint: RedisURL.Endpoint
        let database: Int
        let username: String?
        let password: String?
        let redacted: String
        var testDescription: String { text }
    }

    static let valid: [Case] = [
        Case(text: "redis://", endpoint: .tcp(host: "localhost", port: 6379), database: 0, username: nil,
             password: nil, redacted: "redis://localhost:6379/0"),
        Case(text: "redis://localhost", endpoint: .tcp(host: "localhost", port: 6379), database: 0, username: nil,
             password: nil, redacted: "redis://localhost:6379/0"),
        Case(text: "redis://127.0.0.1:6390/0", endpoint: .tcp(host: "127.0.0.1", port: 6390), database: 0,
             username: nil, password: nil, redacted: "redis://127.0.0.1:6390/0"),
        Case(text: "redis://:pw@h", endpoint: .tcp(host: "h", port: 6379), database: 0, username: nil,
             password: "pw", redacted: "redis://:***@h:6379/0"),
        Case(text: "redis://:s3cret@127.0.0.1:6390/5", endpoint: .tcp(host: "127.0.0.1", port: 6390), database: 5,
             username: nil, password: "s3cret", redacted: "redis://:***@127.0.0.1:6390/5"),
        Case(text: "redis://alice:wonder@redis.example:7000/2", endpoint: .tcp(host: "redis.example", port: 7000),
             database: 2, username: "alice", password: "wonder", redacted: "redis://alice:***@redis.example:7000/2"),
        Case(text: "REDIS://bob@h:1/", endpoint: .tcp(host: "h", port: 1), database: 0, username: "bob",
             password: nil, redacted: "redis://***@h:1/0"),
        Case(text: "redis://:p%40ss%3Aw%2Frd@h/1", endpoint: .tcp(host: "h", port: 6379), database: 1,
             username: nil, password: "p@ss:w/rd", redacted: "redis://:***@h:6379/1"),
        Case(text: "redis://us%20er:%C3%A9t%C3%A9@h", endpoint: .tcp(host: "h", port: 6379), database: 0,
             username: "us er", password: "été", redacted: "redis://us%20er:***@h:6379/0"),
        Case(text: "redis://h:6380?db=7", endpoint: .tcp(host: "h", port: 6380), database: 7, username: nil,
             password: nil, redacted: "redis://h:6380/7"),
        Case(text: "redis://h/3?socket_timeout=5", endpoint: .tcp(host: "h", port: 6379), database: 3,
             username: nil, password: nil, redacted: "redis://h:6379/3"),
        Case(text: "redis://[::1]:6390/4", endpoint: .tcp(host: "::1", port: 6390), database: 4, username: nil,
             password: nil, redacted: "redis://[::1]:6390/4"),
        Case(text: "unix:///tmp/redis.sock", endpoint: .unix(path: "/tmp/redis.sock"), database: 0, username: nil,
             password: nil, redacted: "unix:///tmp/redis.sock?db=0"),
        Case(text: "unix:///path/to/sock?db=9", endpoint: .unix(path: "/path/to/sock"), database: 9, username: nil,
             password: nil, redacted: "unix:///path/to/sock?db=9"),
        Case(text: "redis+socket:///run/r.sock?db=2", endpoint: .unix(path: "/run/r.sock"), database: 2,
             username: nil, password: nil, redacted: "unix:///run/r.sock?db=2"),
        Case(text: "redis+socket://:hunter2@/run/r.sock", endpoint: .unix(path: "/run/r.sock"), database: 0,
             username: nil, password: "hunter2", redacted: "unix://:***@/run/r.sock?db=0"),
        Case(text: "unix:///run/r.sock?db=1&password=hunter2", endpoint: .unix(path: "/run/r.sock"), database: 1,
             username: nil, password: "hunter2", redacted: "unix://:***@/run/r.sock?db=1"),
    ]

    @Test("parses kombu URL forms", arguments: valid)
    func parsesKombuForms(_ c: Case) throws {
        let url = try RedisURL(parsing: c.text)
        #expect(url.endpoint == c.endpoint)
        #expect(url.database == c.database)
        #expect(url.username == c.username)
        #expect(url.password == c.password)
        #expect(url.description == c.redacted)
    }

    @Test func redactedDescriptionRoundTripsWithoutPassword() throws {
        let url = try RedisURL(parsing: "redis://alice:topsecret@h:7000/2")
        let reparsed = try RedisURL(parsing: url.description)
        #expect(reparsed.endpoint == url.endpoint)
        #expect(reparsed.database == 2)
        #expect(reparsed.username == "alice")
        #expect(reparsed.password == "***")
    }

    @Test func neverPrintsPasswordInAnyRendering() throws {
        let url = try RedisURL(parsing: "redis://alice:topsecret@h:7000/2")
        var dumped = ""
        dump(url, to: &dumped)
        for text in ["\(url)", String(reflecting: url), dumped, "\(RedisCommand("AUTH", "alice", "topsecret"))"] {
            #expect(!text.contains("topsecret"), "leaked in: \(text)")
        }
    }

    static let invalid: [(String, String)] = [
        ("rediss://h:6380/0", "TLS"),
        ("http://h", "unsupported scheme"),
        ("localhost:6379", "missing scheme"),
        ("redis://h:notaport", "port"),
        ("redis://h:70000", "port"),
        ("redis://h/abc", "database"),
        ("redis://h?db=-1", "database"),
        ("unix://", "path"),
        ("redis://:bad%zzpassword@h", "percent-escape"),
    ]

    /// Passwords with an unescaped `/`, `?` or `#` (common in generated ones) cut the URL early,
    /// so the port or database read is a piece of the password: never quoted.
    static let cutPasswords: [String] = [
        "redis://:Sekr3t/Tail9@h:1/0", "redis://:Sekr3t?Tail9@h:1/0", "redis://:Sekr3t#Tail9@h:1/0",
        "redis://:12/Sekr3t@h:1/0", "redis://h:1/0?db=Sekr3t&password=Tail9", "Sekr3t://:Tail9@h",
        // Without the colon, a `#` would leave a valid URL whose host is the password's start.
        "redis://Sekr3t#Tail9@h:1/0",
    ]

    @Test(arguments: cutPasswords)
    func errorsQuoteNoPartOfAURLWithCredentials(_ text: String) {
        #expect { try RedisURL(parsing: text) } throws: { e in
            let message = (e as? RedisError)?.message ?? ""
            #expect(!message.contains("Sekr3t") && !message.contains("Tail9"), "\(message)")
            #expect(message.contains("(the text is not repeated: the URL holds credentials)") || message.contains("an '@' follows a '#'"), "\(message)")
            return (e as? RedisError)?.code == .invalidURL
        }
    }

    @Test func aPasswordCutByASlashGetsAHint() {
        #expect { try RedisURL(parsing: "redis://:Sekr3t/Tail9@h:1/0") } throws: { e in
            "\(e)" == "RedisError.invalidURL: invalid Redis URL: port must be a number from 1 to 65535 (the text is not repeated: the URL holds credentials); if the password holds '/', '?' or '#', write them percent-encoded (%2F, %3F, %23)"
        }
    }

    @Test("rejects invalid URLs with a clear message", arguments: invalid)
    func rejectsInvalid(_ text: String, _ fragment: String) {
        do {
            _ = try RedisURL(parsing: text)
            Issue.record("parsed \(text)")
        } catch {
            #expect(error.code == .invalidURL)
            #expect(error.message.contains(fragment), "\(error.message)")
            #expect(!error.message.contains("zzpassword"))
        }
    }

    /// The input on which the URL fuzzer stopped (NULs and invalid UTF-8 in the user info): it
    /// parses, and the masked form holds the user name percent-encoded and not the password.
    /// (What trapped was the fuzzer's own check, Foundation's `String.contains`, on Linux.)
    @Test func nulBytesInTheUserInfoParseAndStayMasked() throws {
        let bytes: [UInt8] = [
            0x72, 0x65, 0x64, 0x69, 0x73, 0x3A, 0x2F, 0x2F, 0xF5, 0x73, 0x76, 0x00, 0x2D, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x6E, 0x2D, 0x2E, 0x2E, 0x2E, 0x2E, 0x2E, 0x2E, 0x2E, 0x2E, 0x00, 0x30, 0x3A, 0x30, 0x00, 0x00, 0x00, 0x40,
            0x31, 0x5D, 0x36, 0x26, 0x26, 0x34, 0x22, 0x61, 0x1D, 0xFC, 0x64, 0x70, 0x34, 0x26, 0x7D, 0x26, 0x7D, 0xFC,
            0x00, 0x00, 0x00,
        ]
        let url = try RedisURL(parsing: String(decoding: bytes, as: UTF8.self))
        #expect(url.password == "0\0\0\0")
        #expect(url.username == "\u{FFFD}sv\0-\0\0\0\0\0n-........\00")
        #expect(url.description.hasPrefix("redis://%EF%BF%BDsv%00-%00%00%00%00%00n-........%000:***@"))
        #expect(Array(url.description.utf8).firstRange(of: Array("0\0\0\0".utf8)) == nil)
    }
}
