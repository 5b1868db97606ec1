import Celeriac
import CeleriacBench
import CeleriacTestSupport
import Logging
import CeleriacTestTags
import Testing

/// The drain machinery against a private redis-server: staging, the atomic release, and what
/// counts as done.
@Suite(.tags(.integration), .timeLimit(.minutes(2))) struct BacklogTests {
    static func connect(_ server: RedisServer, db: Int = 0) async throws -> RedisClient {
        var url = server.url
        url.database = db
        var logger = Logger(label: "bench-test")
        logger.logLevel = .critical
        return try await RedisClient.connect(url: url, logger: logger)
    }

    @Test func releaseMovesTheWholeBacklogAtOnceAndWakesABlockedConsumer() async throws {
        let server = try RedisServer.start()
        defer { server.stop() }
        let admin = try await Self.connect(server)
        defer { admin.close() }
        let consumer = try await Self.connect(server)
        defer { consumer.close() }

        try await Backlog.stage(count: 1_200, staging: "staging", client: admin) { _ in
            Backlog.message(task: "demo.noop", payloadBytes: 10, queue: "celery")
        }
        #expect(try await admin.send(RedisCommand("LLEN", "staging")).int == 1_200, "staged in several pushes")
        #expect(try await admin.send(RedisCommand("LLEN", "celery")).int == 0, "nothing visible to workers yet")

        // A worker already blocked in BRPOP on the queue must wake when the list is renamed onto it.
        let popped = Task { try await consumer.send(RedisCommand("BRPOP", "celery", "30")) }
        // Released only once Redis has the pop blocked, or the test would not test the wake-up.
        try await waitUntil(timeout: .seconds(20)) {
            let info = try await admin.send(RedisCommand("INFO", "clients")).string ?? ""
            return info.contains("blocked_clients:1\r\n")
        }
        try await Backlog.release(staging: "staging", queue: "celery", client: admin)
        let reply = try await popped.value
        let body = try #require(reply.array?.last?.bytes)
        let message = try TaskMessage.decode(bytes: body)
        #expect(message.name == "demo.noop")
        #expect(message.args == [.string("xxxxxxxxxx")])
        #expect(try await admin.send(RedisCommand("LLEN", "celery")).int == 1_199)
        #expect(try await admin.send(RedisCommand("EXISTS", "staging")).int == 0)
    }

    @Test func theFirstMessageMadeIsTheFirstPopped() async throws {
        let server = try RedisServer.start()
        defer { server.stop() }
        let admin = try await Self.connect(server)
        defer { admin.close() }
        try await Backlog.stage(count: 1_001, staging: "staging", client: admin) { i in Array("m\(i)".utf8) }
        try await Backlog.release(staging: "staging", queue: "celery", client: admin)
        #expect(try await admin.send(RedisCommand("RPOP", "celery")).string == "m0")
        #expect(try await admin.send(RedisCommand("LPOP", "celery")).string == "m1000")
    }

    @Test func aDrainIsDoneOnlyWhenNothingIsQueuedNothingIsHeldAndEveryResultIsStored() async throws {
        let server = try RedisServer.start()
        defer { server.stop() }
        let broker = try await Self.connect(server)
        defer { broker.close() }
        let results = try await Self.connect(server, db: 1)
        defer { results.close() }
        var watch = DrainWatch(broker: broker, results: results, queue: "celery")

        _ = try await broker.send(RedisCommand("LPUSH", "celery", "a"))
        _ = try await broker.send(RedisCommand("LPUSH", QueueKeys.list(queue: "celery", priority: 9), "b"))
        var p = try await watch.poll()
        #expect(p == DrainProgress(queued: 2, unacked: 0, results: 0), "every priority list counts")
        #expect(!p.isDone(expectedResults: 2))

        _ = try await broker.send(RedisCommand("DEL", "celery", QueueKeys.list(queue: "celery", priority: 9)))
        _ = try await broker.send(RedisCommand("HSET", QueueKeys.unacked, "tag1", "{}"))
        p = try await watch.poll()
        #expect(p.queued == 0 && p.unacked == 1)
        #expect(!p.isDone(expectedResults: 2), "a held message is not done")

        _ = try await broker.send(RedisCommand("DEL", QueueKeys.unacked))
        _ = try await results.send(RedisCommand("SET", "celery-task-meta-1", "{}"))
        p = try await watch.poll()
        #expect(!p.isDone(expectedResults: 2), "one result of two is not done")
        _ = try await results.send(RedisCommand("SET", "celery-task-meta-2", "{}"))
        p = try await watch.poll()
        #expect(p.isDone(expectedResults: 2))

        let noResults = DrainProgress(queued: 0, unacked: 0, results: nil)
        #expect(noResults.isDone(expectedResults: 2), "with results off, empty queue and unacked are enough")

        #expect(watch.polls == 4)
        #expect(watch.ownCommands.calls == ["llen": 16, "hlen": 4, "dbsize": 4], "what to subtract from commandstats")
        #expect(watch.ownRoundTrips == 8)
    }
}
