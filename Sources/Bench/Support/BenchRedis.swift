public import Celeriac
public import CeleriacTestSupport
public import Logging

/// The benchmark's private redis-server (a free loopback port, never 6379, stopped by pid when
/// released) with a connection to the broker database (0) and one to the result database (1).
public final class BenchRedis: Sendable {
    public let server: RedisServer
    /// `redis://127.0.0.1:<port>/0`: the broker of every worker and client.
    public let brokerURL: String
    /// `redis://127.0.0.1:<port>/1`: every result backend, so `DBSIZE` counts results.
    public let resultURL: String
    /// Connection to db 0.
    public let broker: RedisClient
    /// Connection to db 1.
    public let results: RedisClient

    /// Starts a server and connects.
    public static func start(logger: Logger) async throws -> BenchRedis {
        let server = try RedisServer.start()
        guard let port = server.port else { throw BenchError("redis-server has no TCP port") }
        let brokerURL = "redis://127.0.0.1:\(port)/0"
        let resultURL = "redis://127.0.0.1:\(port)/1"
        var options = RedisOptions()
        options.readTimeout = .seconds(120)
        let broker = try await RedisClient.connect(url: try RedisURL(parsing: brokerURL), options: options, logger: logger)
        let results = try await RedisClient.connect(url: try RedisURL(parsing: resultURL), options: options, logger: logger)
        return BenchRedis(server: server, brokerURL: brokerURL, resultURL: resultURL, broker: broker, results: results)
    }

    private init(server: RedisServer, brokerURL: String, resultURL: String, broker: RedisClient, results: RedisClient) {
        self.server = server
        self.brokerURL = brokerURL
        self.resultURL = resultURL
        self.broker = broker
        self.results = results
    }

    /// The TCP port.
    public var port: Int { server.port ?? 0 }

    /// Sends one command on the broker connection; a Redis error reply is thrown.
    @discardableResult
    public func command(_ name: String, _ args: String...) async throws -> RedisReply {
        let reply = try await broker.send(RedisCommand(name, arguments: args))
        if let error = reply.errorMessage { throw BenchError("\(name) failed: \(error)") }
        return reply
    }

    /// Empties every database.
    public func flushAll() async throws { try await command("FLUSHALL") }

    /// Empties the result database.
    public func flushResults() async throws { _ = try await results.send(RedisCommand("FLUSHDB")) }

    /// Zeroes `INFO commandstats` and the counters of `INFO stats`.
    public func resetStats() async throws { try await command("CONFIG", "RESETSTAT") }

    /// `INFO stats` and `INFO commandstats`, in one command (Redis 7 takes several sections).
    public func statsAndCommands() async throws -> (stats: RedisInfo, commands: CommandStats) {
        let text = try await command("INFO", "stats", "commandstats").string ?? ""
        return (RedisInfo(text), CommandStats(info: text))
    }

    /// The server's version (`redis_version`).
    public func version() async throws -> String {
        RedisInfo(try await command("INFO", "server").string ?? "").fields["redis_version"] ?? "?"
    }

    /// Closes the connections and stops the server.
    public func close() {
        broker.close()
        results.close()
        server.stop()
    }
}
