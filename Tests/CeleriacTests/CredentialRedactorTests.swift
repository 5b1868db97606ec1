import Celeriac
import CeleriacTestTags
import Testing

@Suite(.tags(.unit)) struct CredentialRedactorTests {
    struct Case: Sendable, CustomTestStringConvertible {
        /// Text as a message might quote it.
        let text: String
        /// What must not survive.
        let secret: String
        /// What the redacted text is.
        let redacted: String
        var testDescription: String { redacted }
    }

    static let urls: [Case] = [
        Case(text: "redis://:hunter2@127.0.0.1:6390/0", secret: "hunter2", redacted: "redis://:***@127.0.0.1:6390/0"),
        Case(text: "redis://alice:wonder@h:7000/2", secret: "wonder", redacted: "redis://alice:***@h:7000/2"),
        Case(text: "rediss://:tls-pw@h:6380/0", secret: "tls-pw", redacted: "rediss://:***@h:6380/0"),
        Case(text: "sentinel://:s1@h1:26379;sentinel://:s2@h2:26379", secret: "s1", redacted: "sentinel://:***@h1:26379;sentinel://:***@h2:26379"),
        Case(text: "unix://:sock-pw@/run/r.sock?db=1", secret: "sock-pw", redacted: "unix://:***@/run/r.sock?db=1"),
        // The characters a password holds unescaped: the user info ends at the URL's last `@`.
        Case(text: "redis://:p@ss@h:1/0", secret: "p@ss", redacted: "redis://:***@h:1/0"),
        Case(text: "redis://:a:b:c@h:1/0", secret: "a:b:c", redacted: "redis://:***@h:1/0"),
        Case(text: "redis://:p%40ss%3A@h:1/0", secret: "p%40ss", redacted: "redis://:***@h:1/0"),
        Case(text: "redis://:it's\"quoted\"@h:1/0", secret: "quoted", redacted: "redis://:***@h:1/0"),
        Case(text: "redis://:Gehéim€密码@h:1/0", secret: "Gehéim€密码", redacted: "redis://:***@h:1/0"),
        Case(text: "redis://:ab/cd?ef#gh@h:1/0", secret: "cd?ef", redacted: "redis://:***@h:1/0"),
        Case(text: "redis://:a://b@h:1/0", secret: "b", redacted: "redis://:***://***@h:1/0"),
        // A password with a space: the `@` is found beyond it.
        Case(text: "not 'redis://:correct horse@h:1/0'", secret: "horse", redacted: "not 'redis://:***@h:1/0'"),
        // No `@` at all: what follows the first colon may be the password.
        Case(text: "not 'redis://:lonely'", secret: "lonely", redacted: "not 'redis://:***'"),
        // A lone user name is most likely a password missing its colon.
        Case(text: "redis://hunter2@h:1/0", secret: "hunter2", redacted: "redis://***@h:1/0"),
        // Inside text, quotes and a YAML line.
        Case(text: "broker_url: \"redis://:PW@h:1/0", secret: "PW", redacted: "broker_url: \"redis://:***@h:1/0"),
        Case(text: "cannot connect to redis://u:pw@h:1/0: refused\nand amqp://g:pw2@r//", secret: "pw",
             redacted: "cannot connect to redis://u:***@h:1/0: refused\nand amqp://g:***@r//"),
        // Password parameters and flags.
        Case(text: "unix:///run/r.sock?db=1&password=s3cret&x=1", secret: "s3cret", redacted: "unix:///run/r.sock?db=1&password=***&x=1"),
        Case(text: "redis://h/0?PASSWORD=Up per", secret: "Up", redacted: "redis://h/0?PASSWORD=*** per"),
        Case(text: "qworker --password s3cret -c 2", secret: "s3cret", redacted: "qworker --password *** -c 2"),
        Case(text: "qworker --password=s3cret", secret: "s3cret", redacted: "qworker --password=***"),
        Case(text: "redis_password=s3cret", secret: "s3cret", redacted: "redis_password=***"),
        Case(text: "not 'x?password=s3cret'", secret: "s3cret", redacted: "not 'x?password=***'"),
    ]

    @Test("masks the credentials of URLs and password values", arguments: urls)
    func masksCredentials(_ c: Case) {
        let redacted = CredentialRedactor.redact(c.text)
        #expect(redacted == c.redacted)
        #expect(!redacted.contains(c.secret))
        #expect(CredentialRedactor.redact(redacted) == redacted, "redacting twice changes nothing")
    }

    static let untouched: [String] = [
        "",
        "task demo.add[1f0c] succeeded in 0.001s: 5",
        "redis://127.0.0.1:6390/0",
        "redis://[::1]:6390/4 and unix:///run/redis.sock?db=2",
        "celery@host ready: broker redis://:***@127.0.0.1:6390/0, results redis://127.0.0.1:6390/1",
        // A URL without user info, then a node name: the `@` belongs to the node name.
        "cannot reach redis://h:1/0 from worker celery@box",
        "mail bob@example.com about the passwords list",
        // Usage text's placeholder.
        "Broker URL: redis://[[user]:password@]host[:port][/db] or unix:///path/to/socket?db=N.",
    ]

    @Test("leaves text without credentials as it is", arguments: untouched)
    func leavesOtherTextAlone(_ text: String) {
        #expect(CredentialRedactor.redact(text) == text)
    }

    @Test func agreesWithRedisURLsOwnRedaction() throws {
        for text in ["redis://:pw@h:1/0", "redis://alice:pw@h:7000/2", "redis://bob@h:1/0", "unix://:pw@/run/r.sock?db=3"] {
            let url = try RedisURL(parsing: text)
            #expect(CredentialRedactor.redact(text) == CredentialRedactor.redact(url.description), "\(text)")
            #expect(CredentialRedactor.redact(url.description) == url.description)
        }
    }
}
