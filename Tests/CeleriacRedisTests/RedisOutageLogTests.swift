import Celeriac
import CeleriacTestSupport
import Foundation
import Logging
import CeleriacTestTags
import Testing

/// Connections sharing a ``RedisOutageLog`` report an outage once between them.
@Suite("RedisOutageLog: one outage, one warning, for every connection sharing it", .tags(.integration), .timeLimit(.minutes(1)))
struct RedisOutageLogTests {
    let server: RedisServer
    let logs = LogRecorder()

    init() throws {
        server = try RedisServer.start()
    }

    private func options(_ name: String, _ shared: RedisOutageLog) -> RedisOptions {
        var options = RedisOptions()
        options.name = name
        options.reconnectBackoff = .milliseconds(20)...(.milliseconds(200))
        options.outageLog = shared
        return options
    }

    @Test func severalConnectionsLogOneWarningAndOneRecoveryLine() async throws {
        let shared = RedisOutageLog(logger: logs.logger())
        let broker = try await RedisClient.connect(url: server.url, options: options("broker", shared), logger: logs.logger())
        let results = try await RedisClient.connect(url: server.url, options: options("results", shared), logger: logs.logger())
        let pidbox = try await RedisSubscriber.connect(url: server.url, options: options("pidbox", shared), logger: logs.logger()) { _ in }
        defer { broker.close(); results.close(); pidbox.close() }
        try await pidbox.subscribe(["\(#function)"])

        server.stop()
        // Requests made during the outage wait for the reconnect.
        async let first = broker.send(RedisCommand("SET", "a", "1"))
        async let second = results.send(RedisCommand("SET", "b", "2"))
        // All three connections reported the outage to the shared log before Redis is back: the
        // first with the warning, the other two with a debug line naming them. Only then is
        // "one warning" a claim about three connections rather than about whichever was first.
        let allDown = await Result {
            try await waitUntil(timeout: .seconds(20)) {
                !logs.messages(at: .warning).isEmpty && Set(Self.alsoDown(in: logs)).count == 2
            }
        }
        // Back in any case: the two requests wait for it, so a failure must not leave them hanging.
        try server.restart()
        try allDown.get()
        _ = try await (first, second)
        // The info line is logged by the last connection of the three to come back, so once it
        // is there every connection has reconnected and none has anything left to report.
        try await waitUntil(timeout: .seconds(20)) { !logs.messages(at: .info).isEmpty }

        let warnings = logs.messages(at: .warning)
        #expect(warnings.count == 1, "\(warnings)")
        #expect(warnings.first?.hasPrefix("redis at redis://127.0.0.1:") == true)
        #expect(warnings.first?.hasSuffix("; reconnecting") == true)
        let infos = logs.messages(at: .info)
        #expect(infos.count == 1, "\(infos)")
        #expect(infos.first?.contains(" reachable again after ") == true)
        // The other two were heard, once each, without a warning of their own.
        let others = Self.alsoDown(in: logs)
        #expect(others.count == 2 && Set(others).count == 2 && Set(others).isSubset(of: ["broker", "results", "pidbox"]), "\(others)")
    }

    /// The connections the shared log heard from after the first (its debug lines
    /// `redis <name> at <url> unreachable too`).
    private static func alsoDown(in logs: LogRecorder) -> [String] {
        logs.messages(at: .debug).filter { $0.hasSuffix(" unreachable too") }.compactMap(connection(in:))
    }

    /// The connection a `redis <name> at …` line names, if it names one.
    private static func connection(in line: String) -> String? {
        let words = line.split(separator: " ")
        guard words.count > 3, words[0] == "redis", words[2] == "at" else { return nil }
        return String(words[1])
    }

    @Test func aClosedIdleConnectionReplacedAtOnceIsNoOutage() async throws {
        let shared = RedisOutageLog(logger: logs.logger())
        let client = try await RedisClient.connect(url: server.url, options: options("broker", shared), logger: logs.logger())
        defer { client.close() }
        _ = try await client.send(RedisCommand("PING"))
        try server.restart()
        #expect(try await client.send(RedisCommand("PING")) == .status("PONG"))
        #expect(logs.messages(at: .warning).isEmpty)
        #expect(logs.messages(at: .info).isEmpty)
        #expect(logs.messages(at: .debug).contains { $0.contains("reconnected at once") })
    }
}
