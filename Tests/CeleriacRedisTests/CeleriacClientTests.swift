@testable import Celeriac
import CeleriacTestSupport
import Foundation
import Logging
import Synchronization
import CeleriacTestTags
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The client's send path against real Redis servers, without a worker: a test "worker" stores
/// results the way the Redis result backend does (SETEX + PUBLISH in one MULTI).
@Suite("CeleriacClient: sends do not wait for the result subscription, get() still misses nothing", .tags(.integration))
struct CeleriacClientTests {
    let logger = Logger(label: "client-test", factory: { _ in SwiftLogNoOpLogHandler() })

    func connect(broker: RedisServer, backend: RedisServer) async throws -> CeleriacClient {
        var config = CeleriacConfig()
        config.brokerURL = broker.urlString
        config.resultBackend = backend.urlString
        return try await CeleriacClient.connect(config: config, logger: logger)
    }

    /// One redis-server serving as broker and backend, a client on it, and a plain connection
    /// that stores results as a worker would; `close()` stops all three.
    struct OneServer {
        let server: RedisServer
        let client: CeleriacClient
        let writer: RedisClient

        func close() {
            writer.close()
            client.close()
            server.stop()
        }
    }

    func oneServer() async throws -> OneServer {
        let server = try RedisServer.start()
        do {
            let client = try await connect(broker: server, backend: server)
            do {
                return OneServer(server: server, client: client, writer: try await RedisClient.connect(url: server.url, logger: logger))
            } catch {
                client.close()
                throw error
            }
        } catch {
            server.stop()
            throw error
        }
    }

    /// How many connections are subscribed to `taskID`'s result channel (`PUBSUB NUMSUB`).
    func resultSubscribers(_ taskID: String, on probe: RedisConnection) throws -> Int? {
        try probe.send(RedisCommand("PUBSUB", "NUMSUB", RedisResultBackend.key(for: taskID))).array?.last?.int
    }

    /// Stores a SUCCESS result for `taskID` on `backend`, as a worker would.
    func storeResult(_ taskID: String, _ value: JSONValue, on backend: RedisClient) async throws {
        try await RedisResultBackend(client: backend, expires: 3600)
            .store(.success(taskID: taskID, result: value, now: Date()))
    }

    @Test func sendReturnsWhileTheResultSubscriptionIsStillUnconfirmed() async throws {
        let broker = try RedisServer.start()
        let backend = try RedisServer.start()
        defer { broker.stop(); backend.stop() }
        let client = try await connect(broker: broker, backend: backend)
        defer { client.close() }
        let brokerConnection = try RedisConnection(url: broker.url)

        // A frozen results server cannot confirm a SUBSCRIBE; the task must go out regardless.
        #expect(kill(backend.pid, SIGSTOP) == 0)
        let returned = Flag()
        let sent = Task {
            defer { returned.set() }
            return try await client.send("demo.add", args: [1, 2])
        }
        do {
            try await waitUntil(timeout: .seconds(20)) { try brokerConnection.send(RedisCommand("LLEN", "celery")).int == 1 }
            try await waitUntil(timeout: .seconds(20)) { returned.isSet }
        } catch {
            kill(backend.pid, SIGCONT)
            throw error
        }
        #expect(kill(backend.pid, SIGCONT) == 0)

        let result = try await sent.value
        let writer = try await RedisClient.connect(url: backend.url, logger: logger)
        defer { writer.close() }
        try await storeResult(result.id, 3, on: writer)
        #expect(try await result.get(timeout: .seconds(20)) == .int(3))
    }

    @Test func getsTimeoutCoversAResultsServerThatNeverConfirmsTheSubscription() async throws {
        let broker = try RedisServer.start()
        let backend = try RedisServer.start()
        defer { broker.stop(); backend.stop() }
        let client = try await connect(broker: broker, backend: backend)
        defer { client.close() }
        // Frozen: it takes the SUBSCRIBE but never confirms it.
        #expect(kill(backend.pid, SIGSTOP) == 0)
        defer { kill(backend.pid, SIGCONT) }
        let result = try await client.send("demo.noop")
        let outcome = Mutex<(any Error)?>(nil)
        let waiting = Task {
            do {
                _ = try await result.get(timeout: .seconds(1))
            } catch {
                outcome.withLock { $0 = error }
            }
        }
        // Checked while the server is still frozen: without the deadline on the confirmation,
        // `get` would wait for as long as the server does.
        try await waitUntil(timeout: .seconds(15)) { outcome.withLock { $0 != nil } }
        #expect(outcome.withLock { $0 } is ResultTimeoutError)
        await waiting.value
    }

    @Test func getFindsAResultPublishedBeforeItsSubscriptionExisted() async throws {
        let fixture = try await oneServer()
        defer { fixture.close() }
        let (client, writer) = (fixture.client, fixture.writer)
        // Stored *and published* before the client subscribes: only the read after the
        // subscription's confirmation can find it.
        try await storeResult("early-result", "done", on: writer)
        let result = try await client.send("demo.noop", options: TaskSendOptions(taskID: "early-result"))
        #expect(try await result.get(timeout: .seconds(20)) == "done")
    }

    @Test func anUnreadableStoredResultFailsTheWaitInsteadOfTimingOut() async throws {
        let server = try RedisServer.start()
        defer { server.stop() }
        let client = try await connect(broker: server, backend: server)
        defer { client.close() }
        let writer = try RedisConnection(url: server.url)
        _ = try writer.send(RedisCommand("SET", RedisResultBackend.key(for: "garbled"), "not json"))
        let result = try await client.send("demo.noop", options: TaskSendOptions(taskID: "garbled"))
        // A wait that ran out would throw ResultTimeoutError: the ProtocolError is the read's.
        await #expect(throws: ProtocolError.self) { try await result.get(timeout: .seconds(60)) }
    }

    @Test func aWaitStartsOnlyOnceRedisConfirmedTheSubscription() async throws {
        let server = try RedisServer.start()
        defer { server.stop() }
        let client = try await connect(broker: server, backend: server)
        defer { client.close() }
        let waiter = try #require(client.waiter)
        let probe = try RedisConnection(url: server.url)
        for n in 0..<20 {
            let id = "confirm-\(n)"
            waiter.requestSubscriptions([id])
            try await waiter.confirmSubscription(id)
            // The GET that follows in waitReady relies on this: Redis already has the subscriber.
            #expect(try resultSubscribers(id, on: probe) == 1, "subscription \(n) not in effect when confirmed")
        }
        // Asking for a channel nobody requested subscribes it too.
        try await waiter.confirmSubscription("never-requested")
        #expect(try resultSubscribers("never-requested", on: probe) == 1)
    }

    @Test func resultsStoredTheMomentATaskIsPoppedAreAllCollected() async throws {
        let server = try RedisServer.start()
        defer { server.stop() }
        let client = try await connect(broker: server, backend: server)
        defer { client.close() }
        // The fastest possible worker: pops each message and stores its result at once, racing
        // the client's SUBSCRIBE, which `send` no longer waits for.
        let popper = try await RedisClient.connect(url: server.url, logger: logger)
        let writer = try await RedisClient.connect(url: server.url, logger: logger)
        defer { popper.close(); writer.close() }
        let worker = Task {
            while !Task.isCancelled {
                guard case .array(let reply) = try await popper.send(RedisCommand("BRPOP", "celery", 1)),
                      let bytes = reply.last?.bytes else { continue }
                let message = try TaskMessage.decode(bytes: bytes)
                try await storeResult(message.id, message.args.first ?? .null, on: writer)
            }
        }
        defer { worker.cancel() }
        for n in 0..<300 {
            let value = try await client.send("demo.echo", args: [.int(n)]).get(timeout: .seconds(30))
            #expect(value == .int(n))
        }
        let batch = try await client.sendMany((0..<100).map { CeleriacClient.Signature("demo.echo", args: [.int($0)]) })
        for (n, result) in batch.enumerated() {
            #expect(try await result.get(timeout: .seconds(30)) == .int(n))
        }
    }

    @Test func aBatchSentWithoutSubscriptionsIsSubscribedOnlyWhenAResultIsWaitedFor() async throws {
        let fixture = try await oneServer()
        defer { fixture.close() }
        let (server, client, writer) = (fixture.server, fixture.client, fixture.writer)
        let probe = try RedisConnection(url: server.url)
        let results = try await client.sendMany((0..<50).map { CeleriacClient.Signature("demo.echo", args: [.int($0)]) },
                                                subscribingResults: false)
        #expect(try probe.send(RedisCommand("LLEN", "celery")).int == 50)
        // Nothing is subscribed; a control batch sent the default way is.
        let control = try await client.sendMany([CeleriacClient.Signature("demo.noop")])
        try await waitUntil(timeout: .seconds(20)) {
            try self.resultSubscribers(control[0].id, on: probe) == 1
        }
        for result in results {
            #expect(try resultSubscribers(result.id, on: probe) == 0)
        }
        // Results stored before anyone waits are still found by get().
        for (n, result) in results.enumerated() { try await storeResult(result.id, .int(n), on: writer) }
        for (n, result) in results.enumerated() {
            #expect(try await result.get(timeout: .seconds(20)) == .int(n))
        }
    }

    @Test(.timeLimit(.minutes(1))) func aSendLeavesItsSubscriptionForTheSubscriberToWriteAndAWaitFlushesIt() async throws {
        let server = try RedisServer.start()
        defer { server.stop() }
        var config = CeleriacConfig()
        config.brokerURL = server.urlString
        var options = RedisOptions()
        // The subscriber's idle wake-ups far apart: only a wait can make it write at once.
        options.subscriberIdleWake = .seconds(120)
        let client = try await CeleriacClient.connect(config: config, options: options, logger: logger)
        defer { client.close() }
        let probe = try RedisConnection(url: server.url)
        let waiter = try #require(client.waiter)
        let beforeSend = waiter.subscriberWakeUps
        let result = try await client.send("demo.noop")
        // Only a caller wakes the idle loop: none did, so the subscription stays unwritten.
        #expect(waiter.subscriberWakeUps == beforeSend, "a send does not wake the subscriber")
        #expect(try resultSubscribers(result.id, on: probe) == 0)
        let writer = try await RedisClient.connect(url: server.url, logger: logger)
        defer { writer.close() }
        try await storeResult(result.id, "flushed", on: writer)
        // `get`'s timeout starts once the subscription is confirmed; without the flush the
        // confirmation would wait for the idle wake-up (and the suite's time limit end it).
        #expect(try await result.get(timeout: .seconds(20)) == "flushed")
        #expect(waiter.subscriberWakeUps > beforeSend, "the wait woke the subscriber to write it")
    }

    @Test func aCollectedResultIsUnsubscribedAfterwards() async throws {
        let fixture = try await oneServer()
        defer { fixture.close() }
        let (server, client, writer) = (fixture.server, fixture.client, fixture.writer)
        let result = try await client.send("demo.noop")
        try await storeResult(result.id, nil, on: writer)
        #expect(try await result.get(timeout: .seconds(20)) == .null)
        // `get` does not wait for the UNSUBSCRIBE, but it does happen.
        let probe = try RedisConnection(url: server.url)
        try await waitUntil(timeout: .seconds(20)) {
            try self.resultSubscribers(result.id, on: probe) == 0
        }
    }
}

/// A one-way flag a task raises and the test polls.
private final class Flag: Sendable {
    private let raised = Mutex(false)
    func set() { raised.withLock { $0 = true } }
    var isSet: Bool { raised.withLock { $0 } }
}
