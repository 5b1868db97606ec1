import Celeriac
import CeleriacTestSupport
import Foundation
import Logging
import CeleriacTestTags
import Testing

/// A stand-in for a pool of Celery workers on the pidbox: it PSUBSCRIBEs the broadcast
/// channel and answers like kombu does, looking the reply list up in the reply exchange's
/// binding set (so a client that did not SADD its binding gets nothing, as with Python).
final class FakePidboxWorkers: Sendable {
    /// What each node answers; `nil` means it stays silent.
    typealias Answer = @Sendable (_ node: String, _ command: ControlCommand) -> JSONValue?

    private let commands: Recorder<ControlCommand>
    private let pushes: Recorder<String>
    private let subscriber: RedisSubscriber
    private let redis: RedisClient

    private init(commands: Recorder<ControlCommand>, pushes: Recorder<String>, subscriber: RedisSubscriber, redis: RedisClient) {
        self.commands = commands
        self.pushes = pushes
        self.subscriber = subscriber
        self.redis = redis
    }

    /// Starts listening; every node in `nodes` answers addressed commands with `answer`, and,
    /// when `staleFirst` is set, first pushes a reply carrying another ticket.
    static func start(
        url: RedisURL, nodes: [String], staleFirst: Bool = false, logger: Logger,
        answer: @escaping Answer = { _, _ in ControlReplyBody.pong }
    ) async throws -> FakePidboxWorkers {
        let redis = try await RedisClient.connect(url: url, logger: logger)
        let commands = Recorder<ControlCommand>()
        let pushes = Recorder<String>()
        let subscriber = try await RedisSubscriber.connect(url: url, logger: logger) { event in
            guard case .patternMessage(_, _, let payload) = event,
                let command = try? ControlCommand.decode(payload: payload)
            else { return }
            commands.append(command)
            guard let ticket = command.ticket, let replyTo = command.replyTo else { return }
            Task {
                // kombu's reply path: SMEMBERS, then LPUSH to every queue bound with the routing key.
                let members = try await redis.send(RedisCommand("SMEMBERS", ControlNames.replyBindingSet()))
                let queues = (members.array ?? []).compactMap { $0.string.flatMap(QueueKeys.parseBindingMember) }
                    .filter { $0.routingKey == replyTo.routingKey }.map(\.queue)
                for node in nodes where command.isAddressed(to: node) {
                    guard let result = answer(node, command) else { continue }
                    for queue in queues {
                        if staleFirst {
                            let stale = ControlReply.encode(
                                nodeName: node, result: "stale", ticket: "another-ticket", clock: 1,
                                replyRoutingKey: replyTo.routingKey, deliveryTag: UUID().uuidString)
                            _ = try await redis.send(RedisCommand("LPUSH", queue, stale))
                        }
                        let reply = ControlReply.encode(
                            nodeName: node, result: result, ticket: ticket, clock: 100,
                            replyRoutingKey: replyTo.routingKey, deliveryTag: UUID().uuidString)
                        _ = try await redis.send(RedisCommand("LPUSH", queue, reply))
                        pushes.append(node)
                    }
                }
            }
        }
        try await subscriber.psubscribe([ControlNames.broadcastChannel(db: url.database)])
        return FakePidboxWorkers(commands: commands, pushes: pushes, subscriber: subscriber, redis: redis)
    }

    /// Every command received so far.
    var received: [ControlCommand] { commands.all }

    /// How many replies have been pushed so far (one per answering node and command).
    var repliesPushed: Int { pushes.all.count }

    func stop() {
        subscriber.close()
        redis.close()
    }
}

@Suite("ControlClient against a fake pidbox worker", .tags(.integration))
struct ControlClientTests {
    let server: RedisServer
    let logs = LogRecorder()
    let url: RedisURL

    init() throws {
        server = try RedisServer.start()
        var url = server.url
        url.database = 2
        self.url = url
    }

    private func control() async throws -> ControlClient {
        try await ControlClient.connect(url: url, logger: logs.logger())
    }

    @Test(.timeLimit(.minutes(1))) func collectsEveryMatchingReplyUntilTheTimeout() async throws {
        let workers = try await FakePidboxWorkers.start(url: url, nodes: ["a@test", "b@test"], staleFirst: true, logger: logs.logger())
        defer { workers.stop() }
        let control = try await control()
        let before = Date().timeIntervalSince1970
        let started = ContinuousClock.now
        // Twelve seconds: long enough for both fake workers to answer while the integration phase
        // loads both cores (600 ms once lost one, 2 s once lost both, 5 s once lost both while
        // thirty in-process workers started), and what is measured is that the client waits the
        // whole timeout.
        let replies = try await control.ping(timeout: .seconds(12))
        let elapsed = ContinuousClock.now - started
        #expect(replies == ["a@test": ["ok": "pong"], "b@test": ["ok": "pong"]], "stale replies with another ticket are dropped")
        #expect(elapsed >= .milliseconds(11_950), "without a destination it collects until the timeout")

        let command = try #require(workers.received.first)
        #expect(command.method == "ping")
        #expect(command.arguments == [:])
        #expect(command.destination == nil)
        #expect(command.replyTo == .init(exchange: "reply.celery.pidbox", routingKey: control.oid))
        #expect(command.ticket != nil)
        #expect(command.clock == 1)
        // Sent at some moment after `before`: under the integration phase's load that moment
        // came 1.2 s late once, so the bound above is a loaded machine's margin.
        #expect(command.expires >= before + 12 && command.expires < before + 12 + 5, "expires: the moment it is sent + the timeout")

        // The binding kombu's workers look up, and a deadline an hour ahead for kombu's sweeps.
        let probe = try await RedisClient.connect(url: url, logger: logs.logger())
        defer { probe.close() }
        let member = "\(control.oid)\u{06}\u{16}\u{06}\u{16}\(control.oid).reply.celery.pidbox"
        #expect(try await probe.send(RedisCommand("SISMEMBER", "_kombu.binding.reply.celery.pidbox", member)).int == 1)
        let deadline = try #require(try await probe.send(RedisCommand("ZSCORE", "_kombu.binding_deadlines", "reply.celery.pidbox")).string)
        #expect(abs((Double(deadline) ?? 0) / 1000 - (before + 3600)) < 60)

        // The reply clock (100) was merged, so the next command's clock is past it.
        _ = try await control.ping(timeout: .milliseconds(200))
        try await waitUntil(timeout: .seconds(2)) { workers.received.count == 2 }
        #expect(workers.received[1].clock > 100)
        // A reply pushed after close would recreate the list; wait until both nodes answered.
        try await waitUntil(timeout: .seconds(5)) { workers.repliesPushed == 4 }

        await control.close()
        #expect(try await probe.send(RedisCommand("SISMEMBER", "_kombu.binding.reply.celery.pidbox", member)).int == 0)
        #expect(try await probe.send(RedisCommand("EXISTS", "\(control.oid).reply.celery.pidbox")).int == 0)
        await #expect { try await control.ping() } throws: { ($0 as? RedisError)?.code == .closed }
    }

    @Test(.timeLimit(.minutes(1))) func aDestinationLimitsRepliesAndReturnsEarly() async throws {
        let workers = try await FakePidboxWorkers.start(url: url, nodes: ["a@test", "b@test", "c@test"], logger: logs.logger())
        defer { workers.stop() }
        let control = try await control()
        // An hour: only the early return once every destination answered can end the call
        // within the test's time limit, however long a loaded machine stalls the process.
        let replies = try await control.ping(destination: ["a@test", "c@test"], timeout: .seconds(3600))
        #expect(replies.keys.sorted() == ["a@test", "c@test"])
        #expect(workers.received.first?.destination == ["a@test", "c@test"])

        let one = try await control.broadcast("ping", timeout: .seconds(10), limit: 1)
        #expect(one.count == 1)
        await control.close()
    }

    @Test func repliesWithAnotherTicketAreIgnored() async throws {
        let workers = try await FakePidboxWorkers.start(url: url, nodes: ["a@test"], logger: logs.logger()) { _, _ in nil }
        defer { workers.stop() }
        let control = try await control()
        // A late reply to an earlier command sits in the list already.
        let late = ControlReply.encode(
            nodeName: "a@test", result: ControlReplyBody.pong, ticket: "old", clock: 1, replyRoutingKey: control.oid,
            deliveryTag: "t")
        let redis = try await RedisClient.connect(url: url, logger: logs.logger())
        defer { redis.close() }
        _ = try await redis.send(RedisCommand("LPUSH", "\(control.oid).reply.celery.pidbox", late))
        _ = try await redis.send(RedisCommand("LPUSH", "\(control.oid).reply.celery.pidbox", Array("garbage".utf8)))
        // Long enough for the client to read both on a loaded machine (300 ms once was not).
        let replies = try await control.inspect("active", timeout: .seconds(2))
        #expect(replies.isEmpty)
        #expect(workers.received.first?.arguments == ["safe": nil])
        #expect(logs.messages(at: .warning).filter { $0.hasPrefix("skipping a malformed control reply") }.count == 1)
        await control.close()
    }

    @Test(.timeLimit(.minutes(1))) func fireAndForgetCommandsCarryNoTicket() async throws {
        let workers = try await FakePidboxWorkers.start(url: url, nodes: ["a@test"], logger: logs.logger())
        defer { workers.stop() }
        let control = try await control()
        // An hour: only returning without waiting for replies ends it within the time limit.
        #expect(try await control.revoke(["id-1"], timeout: .seconds(3600)) == [:])
        try await control.revoke(["id-1", "id-2"], terminate: true, signal: "SIGKILL", destination: ["a@test"])
        try await control.heartbeat()
        try await control.poolGrow(n: 2)
        try await control.enableEvents()
        try await waitUntil(timeout: .seconds(2)) { workers.received.count == 5 }
        let received = workers.received
        #expect(received.allSatisfy { $0.ticket == nil && $0.replyTo == nil })
        #expect(received[0].method == "revoke")
        #expect(received[0].arguments == ["task_id": "id-1", "terminate": false, "signal": "SIGTERM"])
        #expect(received[1].arguments == ["task_id": ["id-1", "id-2"], "terminate": true, "signal": "SIGKILL"])
        #expect(received[1].destination == ["a@test"])
        #expect(received.map(\.method) == ["revoke", "revoke", "heartbeat", "pool_grow", "enable_events"])
        #expect(received[3].arguments == ["n": 2])
        #expect(received.map(\.clock) == [1, 2, 3, 4, 5])
        #expect(received.allSatisfy { $0.expires > 0 })

        // The reply flavour of revoke collects like any other command.
        let answered = try await control.revoke(["id-3"], reply: true, destination: ["a@test"], timeout: .seconds(5))
        #expect(answered == ["a@test": ["ok": "pong"]])
        await control.close()
    }

    @Test func concurrentCollectionsDoNotStealEachOthersReplies() async throws {
        let workers = try await FakePidboxWorkers.start(url: url, nodes: ["a@test", "b@test"], logger: logs.logger()) { node, command in
            .string("\(command.method) from \(node)")
        }
        defer { workers.stop() }
        let control = try await control()
        // With destinations a collection ends as soon as both answered; 12 s is only the bound a
        // loaded integration phase needs (5 s once lost every reply).
        async let first = control.broadcast("one", destination: ["a@test", "b@test"], timeout: .seconds(12))
        async let second = control.broadcast("two", destination: ["a@test", "b@test"], timeout: .seconds(12))
        let (r1, r2) = try await (first, second)
        #expect(r1 == ["a@test": "one from a@test", "b@test": "one from b@test"])
        #expect(r2 == ["a@test": "two from a@test", "b@test": "two from b@test"])
        await control.close()
    }
}
