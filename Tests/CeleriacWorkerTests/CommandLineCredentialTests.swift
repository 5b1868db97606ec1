import Celeriac
import CeleriacTestSupport
import Foundation
import CeleriacTestTags
import Testing

/// Issue 12, case 6: the real `qworker` and `qmon` binaries (CELERIAC_BIN_DIR), given a
/// password in every way an operator's mistake can carry one (a broken YAML line, a URL pasted
/// into the wrong setting, a password cut by an unescaped `/`, an argument in the wrong place, a
/// broker that is down or refuses the password), print it in neither stdout nor stderr, and still
/// say clearly what is wrong and where.
///
/// Every password holds `s3cr3t`, so one search finds any piece of any of them.
@Suite(.tags(.integration), .serialized, .timeLimit(.minutes(2))) struct CommandLineCredentialTests {
    private static let secret = "s3cr3t"

    /// Runs `binary` with `arguments` in `directory` to its end; returns its exit status and
    /// everything it printed (stdout and stderr).
    private static func run(
        _ binary: String, _ arguments: [String], in directory: TemporaryDirectory, environment: [String: String] = [:]
    ) async throws -> (status: Int32, output: String) {
        let p = try ChildProcess(
            "\(binary)-\(UUID().uuidString.prefix(8))", executable: TestEnvironment.binDirectory.appendingPathComponent(binary).path,
            arguments: arguments, environment: environment.merging(["XDG_STATE_HOME": directory.path]) { a, _ in a },
            workingDirectory: directory.url, logDirectory: directory)
        let status = await p.wait(timeout: .seconds(30))
        return (status, p.output)
    }

    /// Both binaries, and qmon's dashboard (the default subcommand) as well as a headless one.
    private static let commands: [(binary: String, arguments: [String])] = [
        ("qworker", []), ("qmon", ["status"]), ("qmon", []),
    ]

    private static func expectNoSecret(_ output: String, _ context: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!output.contains(secret), "\(context) printed the password:\n\(output)", sourceLocation: sourceLocation)
    }

    /// Each config file, with the words its error must still contain.
    static let brokenConfigs: [(name: String, yaml: String, mentions: [String])] = [
        // The issue's case: a missing closing quote.
        ("missing-quote", "broker_url: \"redis://:PW-s3cr3t@127.0.0.1:1/0\n", ["not valid YAML", "line 2, column 1", "quoted scalar"]),
        // The offending line is the password's own line.
        ("bad-indent", "result_expires: 5\n  broker_url: redis://admin:p@ss:s3cr3t@127.0.0.1:1/0\n",
         ["not valid YAML", "line 2, column 13", "mapping values are not allowed"]),
        ("twice", "broker_url: redis://:s3cr3t@h:1/0\nbroker_url: redis://:s3cr3t@h:1/0\n", ["not valid YAML", "given twice", "broker_url"]),
        // A wrong-typed setting next to a password, and a password URL pasted into the wrong setting.
        ("typed", "broker_url: redis://:s3cr3t@127.0.0.1:1/0\nworker_prefetch_multiplier: lots\n",
         ["worker_prefetch_multiplier must be a whole number", "'lots'"]),
        ("pasted", "broker_url: redis://:s3cr3t@127.0.0.1:1/0\nresult_expires: redis://:s3cr3t@127.0.0.1:1/0\n",
         ["result_expires must be a whole number", "'redis://:***@127.0.0.1:1/0'"]),
        // Percent-escaped, quoted and non-ASCII passwords.
        ("escaped", "broker_url: 'redis://:%40s3cr3t%3A\"é密@127.0.0.1:1/0\n", ["not valid YAML", "line 2, column 1"]),
    ]

    @Test(arguments: brokenConfigs.map(\.name))
    func aBrokenConfigFileIsReportedWithoutItsPassword(_ name: String) async throws {
        let config = try #require(Self.brokenConfigs.first { $0.name == name })
        let directory = try TemporaryDirectory(prefix: "celeriac-secrets")
        defer { directory.remove() }
        try config.yaml.write(toFile: directory.file("broken.yaml"), atomically: true, encoding: .utf8)
        for (binary, arguments) in Self.commands {
            let context = "\(binary) \(arguments.joined(separator: " ")) with \(name)"
            let (status, output) = try await Self.run(binary, arguments + ["--config", "broken.yaml"], in: directory)
            #expect(status != 0, "\(context) exited 0:\n\(output)")
            Self.expectNoSecret(output, context)
            #expect(output.contains("broken.yaml"), "\(context) does not name the file:\n\(output)")
            for word in config.mentions { #expect(output.contains(word), "\(context) does not say \(word):\n\(output)") }
        }
    }

    @Test func aWrongSettingFromTheEnvironmentIsReportedWithoutItsPassword() async throws {
        let directory = try TemporaryDirectory(prefix: "celeriac-secrets")
        defer { directory.remove() }
        for (binary, arguments) in Self.commands {
            let (status, output) = try await Self.run(
                binary, arguments, in: directory, environment: ["CELERY_RESULT_EXPIRES": "redis://user:s3cr3t@127.0.0.1:1/0"])
            #expect(status != 0, "\(binary) exited 0:\n\(output)")
            Self.expectNoSecret(output, binary)
            #expect(output.contains("CELERY_RESULT_EXPIRES") && output.contains("redis://user:***@127.0.0.1:1/0"), "\(binary):\n\(output)")
        }
    }

    /// A generated password with `/`, `?` or `#` not percent-encoded: the URL is cut there, so
    /// the "port" or "database" the parser complains about is a piece of the password.
    @Test(arguments: ["redis://:Fir5t/s3cr3t@127.0.0.1:1/0", "redis://:s3cr3t?more@127.0.0.1:1/0", "redis://:12/s3cr3t@127.0.0.1:1/0"])
    func aURLCutByItsPasswordIsReportedWithoutAnyPieceOfIt(_ url: String) async throws {
        let directory = try TemporaryDirectory(prefix: "celeriac-secrets")
        defer { directory.remove() }
        for (binary, arguments) in Self.commands {
            let (status, output) = try await Self.run(binary, arguments + ["--broker", url], in: directory)
            #expect(status != 0, "\(binary) exited 0:\n\(output)")
            Self.expectNoSecret(output, "\(binary) --broker \(url.prefix(12))")
            #expect(!output.contains("Fir5t"), "\(binary) printed a piece of the password:\n\(output)")
            #expect(output.contains("invalid Redis URL") && output.contains("percent-encoded"), "\(binary):\n\(output)")
        }
    }

    @Test func anArgumentInTheWrongPlaceIsReportedWithoutItsPassword() async throws {
        let directory = try TemporaryDirectory(prefix: "celeriac-secrets")
        defer { directory.remove() }
        for (binary, arguments) in [("qworker", ["redis://:s3cr3t@127.0.0.1:1/0"]), ("qmon", ["status", "redis://:s3cr3t@127.0.0.1:1/0"]),
                                    ("qworker", ["--broker-url", "redis://:s3cr3t@127.0.0.1:1/0"])] {
            let (status, output) = try await Self.run(binary, arguments, in: directory)
            #expect(status != 0, "\(binary) exited 0:\n\(output)")
            Self.expectNoSecret(output, "\(binary) \(arguments[0].prefix(8))")
            #expect(output.contains("Unexpected argument") || output.contains("Unknown option"), "\(binary):\n\(output)")
        }
    }

    @Test func anUnreachableBrokerIsNamedWithItsPasswordMasked() async throws {
        let directory = try TemporaryDirectory(prefix: "celeriac-secrets")
        defer { directory.remove() }
        // Nothing listens there: the port was free a moment ago and nobody is told of it.
        let port = try RedisServer.freeLoopbackPort()
        let url = "redis://admin:s3cr3t@127.0.0.1:\(port)/0"
        let status = try await Self.run("qmon", ["status", "--broker", url], in: directory)
        #expect(status.status == 2, "\(status.output)")
        Self.expectNoSecret(status.output, "qmon status")
        #expect(status.output.contains("cannot connect to redis://admin:***@127.0.0.1:\(port)/0"), "\(status.output)")

        // The worker retries at start-up, one line per attempt naming the broker.
        let worker = try ChildProcess(
            "qworker-unreachable", executable: TestEnvironment.binDirectory.appendingPathComponent("qworker").path,
            arguments: ["--broker", url], workingDirectory: directory.url, logDirectory: directory)
        defer { worker.stopNow() }
        try await waitUntil(timeout: .seconds(20)) { worker.output.contains("Cannot connect to") }
        Self.expectNoSecret(worker.output, "qworker")
        #expect(worker.output.contains("Cannot connect to redis://admin:***@127.0.0.1:\(port)/0"), "\(worker.output)")
    }

    @Test func aRefusedPasswordIsNotRepeated() async throws {
        let server = try RedisServer.start(password: "the-right-one")
        defer { server.stop() }
        let directory = try TemporaryDirectory(prefix: "celeriac-secrets")
        defer { directory.remove() }
        let port = try #require(server.port)
        let url = "redis://:wrong-s3cr3t@127.0.0.1:\(port)/0"
        for (binary, arguments) in [("qworker", [String]()), ("qmon", ["status"]), ("qmon", ["inspect", "ping"])] {
            let (status, output) = try await Self.run(binary, arguments + ["--broker", url], in: directory)
            #expect(status != 0, "\(binary) exited 0:\n\(output)")
            Self.expectNoSecret(output, binary)
            #expect(output.contains("redis://:***@127.0.0.1:\(port)/0") && output.lowercased().contains("auth"), "\(binary):\n\(output)")
        }
    }

    @Test func aRunningWorkerShowsItsBrokerMaskedInItsBannerAndItsConf() async throws {
        let server = try RedisServer.start(password: "pw-s3cr3t")
        defer { server.stop() }
        let directory = try TemporaryDirectory(prefix: "celeriac-secrets")
        defer { directory.remove() }
        let worker = try ChildProcess(
            "qworker-conf", executable: TestEnvironment.binDirectory.appendingPathComponent("qworker").path,
            arguments: ["--broker", server.urlString, "-n", "conf@%h", "--without-mingle"], workingDirectory: directory.url,
            logDirectory: directory)
        defer { worker.stopNow() }
        try await waitUntil(timeout: .seconds(20)) { worker.output.contains(" ready: broker ") }
        let conf = try await Self.run("qmon", ["inspect", "conf", "--broker", server.urlString], in: directory)
        #expect(conf.status == 0, "\(conf.output)")
        Self.expectNoSecret(conf.output, "qmon inspect conf")
        #expect(conf.output.contains("\"broker_url\": \"redis://:***@127.0.0.1:\(server.port ?? 0)/0\""), "\(conf.output)")
        Self.expectNoSecret(worker.output, "qworker")
        #expect(worker.output.contains("ready: broker redis://:***@127.0.0.1:"), "\(worker.output)")
    }
}
