import Celeriac
import CeleriacTestSupport
import Foundation
import Logging
import CeleriacTestTags
import Testing

/// Connections sharing a ``RedisOutageLog`` report an outage once between them.
@Suite("RedisOutageLog: one outage, one warning, for every connection sharing it", .tags(.integration))
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
        try await waitUntil(timeout: .seconds(5)) { !logs.messages(at: .warning).isEmpty }
        try await Task.sleep(for: .milliseconds(300))
        try server.restart()
        _ = try await (first, second)
        try await waitUntil(timeout: .seconds(5)) { !logs.messages(at: .info).isEmpty }
        try await Task.sleep(for: .milliseconds(300))

        let warnings = logs.messages(at: .warning)
        #expect(warnings.count == 1, "\(warnings)")
        #expect(warnings.first?.hasPrefix("redis at redis://127.0.0.1:") == true)
        #expect(warnings.first?.hasSuffix("; reconnecting") == true)
        let infos = logs.messages(at: .info)
        #expect(infos.count == 1, "\(infos)")
        #expect(infos.first?.contains(" reachable again after ") == true)
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
