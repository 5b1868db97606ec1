import Celeriac
import CeleriacTestSupport
import Foundation
import Logging
import CeleriacTestTags
import Testing

@Suite("RedisClient: async facade with automatic pipelining and outage handling", .tags(.integration))
struct RedisClientTests {
    let server: RedisServer
    let logs = LogRecorder()

    init() throws {
        server = try RedisServer.start(password: "client-secret")
    }

    private func options(_ name: String = "test") -> RedisOptions {
        var options = RedisOptions()
        options.name = name
        options.reconnectBackoff = .milliseconds(20)...(.milliseconds(200))
        return options
    }

    @Test func concurrentCallersAllSucceedWithExactCounts() async throws {
        let client = try await RedisClient.connect(url: server.url, options: options(), logger: logs.logger())
        defer { client.close() }
        let prefix = #function
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<200 {
                group.addTask {
                    for _ in 0..<50 {
                        _ = try await client.send(RedisCommand("INCR", "\(prefix):total"))
                        _ = try await client.send(RedisCommand("INCR", "\(prefix):task:\(task % 10)"))
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await client.send(RedisCommand("GET", "\(prefix):total")).int == 10_000)
        let perTask = try await client.pipeline((0..<10).map { RedisCommand("GET", "\(prefix):task:\($0)") })
        #expect(perTask.map(\.int) == Array(repeating: 1000, count: 10))
    }

    @Test func everyCallerGetsItsOwnReplyWhetherItWroteItselfOrTheThreadDid() async throws {
        // Requests small enough for a caller to write on an idle connection, mixed with ones the
        // connection thread must write (over the direct-write limit), from many tasks at once:
        // each reply must still reach the request it answers.
        let client = try await RedisClient.connect(url: server.url, options: options(), logger: logs.logger())
        defer { client.close() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<40 {
                group.addTask {
                    for round in 0..<25 {
                        let size = (task + round) % 5 == 0 ? 40_000 : 8
                        let payload = Array("\(task):\(round):".utf8) + Array(repeating: UInt8(ascii: "x"), count: size)
                        let reply = try await client.send(RedisCommand("ECHO", payload))
                        #expect(reply.bytes == payload)
                        let pair = try await client.pipeline([RedisCommand("ECHO", "\(task)-\(round)-a"), RedisCommand("ECHO", "\(task)-\(round)-b")])
                        #expect(pair.map(\.string) == ["\(task)-\(round)-a", "\(task)-\(round)-b"])
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    @Test func sendThrowsErrorRepliesPipelineReturnsThem() async throws {
        let client = try await RedisClient.connect(url: server.url, options: options(), logger: logs.logger())
        defer { client.close() }
        let key = "\(#function):s"
        _ = try await client.send(RedisCommand("SET", key, "text"))
        await #expect { _ = try await client.send(RedisCommand("INCR", key)) } throws: {
            ($0 as? RedisError)?.code == .server
        }
        let replies = try await client.pipeline([RedisCommand("INCR", key), RedisCommand("GET", key)])
        #expect(replies[0].errorMessage != nil)
        #expect(replies[1].string == "text")
        #expect(try await client.pipeline([]) == [])
    }

    @Test func chunkedPipelineKeepsOrderAcrossChunksAndReturnsEveryReply() async throws {
        let client = try await RedisClient.connect(url: server.url, options: options(), logger: logs.logger())
        defer { client.close() }
        let key = "\(#function):list"
        var made: [Int] = []
        let replies = try await client.pipeline(chunks: 7) { chunk in
            made.append(chunk)
            // Uneven chunk sizes, an empty one, and an error reply in the middle.
            if chunk == 3 { return [] }
            if chunk == 4 { return [RedisCommand("INCR", key)] }
            return (0..<(chunk + 1) * 40).map { RedisCommand("RPUSH", key, "\(chunk)-\($0)") }
        }
        #expect(made == Array(0..<7), "chunks are made once each, in order")
        var expected: [String] = []
        for chunk in 0..<7 where chunk != 3 && chunk != 4 {
            for n in 0..<(chunk + 1) * 40 { expected.append("\(chunk)-\(n)") }
        }
        let pushed = replies.filter { $0.errorMessage == nil }
        #expect(pushed.map(\.int) == Array(1...expected.count))
        #expect(replies.count == expected.count + 1)
        #expect(replies[40 + 80 + 120].errorMessage != nil, "the INCR on a list fails in place")
        let stored = try await client.send(RedisCommand("LRANGE", key, 0, -1))
        #expect(stored.array?.compactMap(\.string) == expected)
        #expect(try await client.pipeline(chunks: 0) { _ in [] } == [])
        client.close()
        await #expect { _ = try await client.pipeline(chunks: 2) { _ in [RedisCommand("PING")] } } throws: {
            ($0 as? RedisError)?.code == .closed
        }
    }

    @Test func transactionRunsAtomicallyAndThrowsWhenDiscarded() async throws {
        let client = try await RedisClient.connect(url: server.url, options: options(), logger: logs.logger())
        defer { client.close() }
        let key = "\(#function):n"
        let replies = try await client.transaction([RedisCommand("INCRBY", key, 5), RedisCommand("INCR", key)])
        #expect(replies == [.integer(5), .integer(6)])
        await #expect { _ = try await client.transaction([RedisCommand("INCR", key), RedisCommand("BOGUS")]) } throws: {
            ($0 as? RedisError)?.code == .server
        }
        #expect(try await client.send(RedisCommand("GET", key)).int == 6)
    }

    @Test func firstConnectFailsFastOnWrongPassword() async throws {
        var url = server.url
        url.password = "not-the-password"
        do {
            _ = try await RedisClient.connect(url: url, options: options(), logger: logs.logger())
            Issue.record("connected with a wrong password")
        } catch {
            #expect(error.code == .authenticationFailed)
            #expect(!error.description.contains("not-the-password"))
        }
    }

    @Test(.timeLimit(.minutes(1))) func firstConnectFailsFastWhenRefused() async throws {
        let port = try RedisServer.freeLoopbackPort()
        var options = options()
        // An hour: a refusal that were waited out would hit the test's time limit instead.
        options.connectTimeout = .seconds(3600)
        await #expect {
            _ = try await RedisClient.connect(
                url: RedisURL(endpoint: .tcp(host: "127.0.0.1", port: port)), options: options,
                logger: logs.logger())
        } throws: { ($0 as? RedisError)?.code == .connectionFailed }
    }

    @Test func survivesServerRestartAndReplaysSelect() async throws {
        var url = server.url
        url.database = 3
        let client = try await RedisClient.connect(url: url, options: options("broker"), logger: logs.logger())
        defer { client.close() }
        let key = "\(#function):k"
        _ = try await client.send(RedisCommand("SET", key, "before"))
        try server.restart()

        var errors: [RedisError] = []
        var value: RedisReply = .null
        try await waitUntil(timeout: .seconds(5)) {
            do {
                _ = try await client.send(RedisCommand("SET", key, "after"))
                value = try await client.send(RedisCommand("GET", key))
                return true
            } catch let error as RedisError {
                errors.append(error)
                return false
            }
        }
        #expect(errors.count <= 1, "\(errors)")
        #expect(errors.allSatisfy { $0.code == .connectionLost })
        #expect(value.string == "after")

        // SELECT was replayed: the key is in db 3, not db 0.
        var db3 = server.url
        db3.database = 3
        #expect(try RedisConnection(url: db3).send(RedisCommand("GET", key)).string == "after")
        #expect(try RedisConnection(url: server.url).send(RedisCommand("GET", key)) == .null)

        try await waitUntil(timeout: .seconds(2)) { !logs.messages(at: .info).isEmpty }
        let warnings = logs.messages(at: .warning)
        #expect(warnings.count == 1, "\(warnings)")
        #expect(warnings.first?.hasPrefix("redis broker at redis://:***@127.0.0.1:") == true)
        #expect(warnings.first?.contains("unreachable") == true)
        #expect(warnings.first?.hasSuffix("; reconnecting") == true)
        let infos = logs.messages(at: .info)
        #expect(infos.count == 1)
        #expect(infos.first?.hasPrefix("redis broker reconnected after ") == true)
        #expect(logs.lines.allSatisfy { !$0.message.contains("client-secret") })
    }

    @Test func requestsWaitingDuringOutageSucceedAfterServerComesBack() async throws {
        let client = try await RedisClient.connect(url: server.url, options: options(), logger: logs.logger())
        defer { client.close() }
        let key = "\(#function):k"
        _ = try await client.send(RedisCommand("PING"))
        server.stop()
        // The idle connection's close is noticed before writing, so this waits for the server.
        async let queued = client.send(RedisCommand("INCR", key))
        try await waitUntil(timeout: .seconds(2)) { !logs.messages(at: .warning).isEmpty }
        try server.restart()
        #expect(try await queued == .integer(1))
    }

    @Test(.timeLimit(.minutes(1))) func queuedRequestsFailAfterMaxOutageWait() async throws {
        var options = options()
        options.maxOutageWait = .milliseconds(300)
        let client = try await RedisClient.connect(url: server.url, options: options, logger: logs.logger())
        defer { client.close() }
        server.stop()
        let started = ContinuousClock.now
        await #expect { _ = try await client.send(RedisCommand("PING")) } throws: {
            ($0 as? RedisError)?.code == .connectionLost
        }
        let elapsed = ContinuousClock.now - started
        // Not before the wait (a lower bound a slow machine cannot break); that it ends at all
        // (nil would wait forever) is the test's time limit.
        #expect(elapsed >= .milliseconds(250), "\(elapsed)")
    }

    @Test func closeInterruptsBlockingPopAndFailsLaterRequests() async throws {
        let client = try await RedisClient.connect(url: server.url, options: options(), logger: logs.logger())
        let key = "\(#function):q"
        let pop = Task { try await client.send(RedisCommand("BRPOP", key, 0)) }
        // Wait until the BRPOP is really blocked on the server.
        let admin = try RedisConnection(url: server.url)
        try await waitUntil(timeout: .seconds(10)) {
            try admin.send(RedisCommand("INFO", "clients")).string?.contains("blocked_clients:1") == true
        }
        // Polled without awaiting, so a busy cooperative pool cannot skew it. BRPOP 0 would
        // block forever, so the client going away at all proves close() interrupted it; the
        // timeout only ends a failing run (a 2 s bound here once failed at 2.003 s under load).
        client.close()
        client.close()
        let unblocked = try pollSynchronously(timeout: .seconds(60)) {
            try admin.send(RedisCommand("INFO", "clients")).string?.contains("blocked_clients:0") == true
        }
        #expect(unblocked)
        await #expect { _ = try await pop.value } throws: { ($0 as? RedisError)?.code == .closed }
        await #expect { _ = try await client.send(RedisCommand("PING")) } throws: {
            ($0 as? RedisError)?.code == .closed
        }
    }

    @Test func blockingPopOnDedicatedClientWakesOnPush() async throws {
        let popper = try await RedisClient.connect(url: server.url, options: options("pop"), logger: logs.logger())
        let pusher = try await RedisClient.connect(url: server.url, options: options("push"), logger: logs.logger())
        defer {
            popper.close()
            pusher.close()
        }
        let key = "\(#function):q"
        let pop = Task { try await popper.send(RedisCommand("BRPOP", key, 30)) }
        // Pushed only once Redis has the pop blocked: a pop that came after the push would
        // return at once and test no wake-up.
        try await waitUntil(timeout: .seconds(20)) {
            let info = try await pusher.send(RedisCommand("INFO", "clients")).string ?? ""
            return info.contains("blocked_clients:1\r\n")
        }
        _ = try await pusher.send(RedisCommand("LPUSH", key, [0, 1, 2] as [UInt8]))
        #expect(try await pop.value == .array([.bulk(Array(key.utf8)), .bulk([0, 1, 2])]))
    }
}
