import Celeriac
import CeleriacTestSupport
import Foundation
import Logging
import Synchronization
import CeleriacTestTags
import Testing

/// Values appended from any thread, readable from the test.
final class Recorder<Value: Sendable>: Sendable {
    private let values = Mutex<[Value]>([])

    func append(_ value: Value) { values.withLock { $0.append(value) } }

    var all: [Value] { values.withLock { $0 } }
}

/// Drains an ``EventReceiver``'s stream into an array the test can poll with `waitUntil`.
final class EventDrain: Sendable {
    private let received = Recorder<CeleryEvent>()
    private let finished = Recorder<Bool>()
    private let task: Task<Void, Never>

    init(_ receiver: EventReceiver) {
        let received = received
        let finished = finished
        task = Task {
            for await event in receiver.events { received.append(event) }
            finished.append(true)
        }
    }

    var events: [CeleryEvent] { received.all }
    var isFinished: Bool { !finished.all.isEmpty }

    deinit { task.cancel() }
}

@Suite("EventPublisher → EventReceiver over Redis pub/sub", .tags(.integration))
struct EventReceiverTests {
    let server: RedisServer
    let logs = LogRecorder()
    /// A database other than 0, so channel names must carry it.
    let url: RedisURL
    let sender = EventSender(hostname: "w1@test", utcoffset: -2.0, pid: 4242)

    init() throws {
        server = try RedisServer.start()
        var url = server.url
        url.database = 3
        self.url = url
    }

    @Test func singleAndBatchedEventsArriveWithExactFields() async throws {
        let receiver = try await EventReceiver.connect(url: url, logger: logs.logger())
        defer { receiver.close() }
        let drain = EventDrain(receiver)
        // A raw subscriber checks the channels the publisher used.
        let channels = Recorder<String>()
        let raw = try await RedisSubscriber.connect(url: url, logger: logs.logger()) { event in
            if case .patternMessage(_, let channel, _) = event { channels.append(channel) }
        }
        defer { raw.close() }
        try await raw.psubscribe(["/*"])

        let publisher = try await EventPublisher.connect(url: url, sender: sender, logger: logs.logger())
        defer { publisher.close() }
        let heartbeat = CeleryEvent.worker(
            .workerHeartbeat, sender, clock: publisher.nextClock(), timestamp: 1_795_571_954.25, active: 1, processed: 7,
            loadavg: [0.5, 0.25, 0.0], swIdent: "celeriac", swVer: "0.1.0", swSys: "Linux")
        let started = CeleryEvent.taskStarted(sender, clock: publisher.nextClock(), timestamp: 1_795_571_955.5, uuid: "id-1")
        let succeeded = CeleryEvent.taskSucceeded(
            sender, clock: publisher.nextClock(), timestamp: 1_795_571_956.125, uuid: "id-1", result: "{'x': 'é'}",
            runtime: 0.015000000000000001)
        await publisher.publish(heartbeat)
        await publisher.publishTaskEvents([started, succeeded])
        await publisher.publishTaskEvents([])

        try await waitUntil(timeout: .seconds(5)) { drain.events.count == 3 }
        #expect(drain.events == [heartbeat, started, succeeded])
        #expect(drain.events.map(\.clock) == [1, 2, 3])
        let first = try #require(drain.events.first)
        #expect(first.fields.keys == [
            "hostname", "utcoffset", "pid", "clock", "freq", "active", "processed", "loadavg", "sw_ident", "sw_ver",
            "sw_sys", "timestamp", "type",
        ])
        #expect(first.hostname == "w1@test" && first.utcoffset == -2.0 && first.pid == 4242)
        #expect(drain.events[2].task?.result == "{'x': 'é'}")
        try await waitUntil(timeout: .seconds(2)) { channels.all.count == 2 }
        #expect(channels.all == ["/3.celeryev/worker.heartbeat", "/3.celeryev/task.multi"])
    }

    @Test func eventsOfAnotherDatabaseAreNotSeen() async throws {
        let receiver = try await EventReceiver.connect(url: url, logger: logs.logger())
        defer { receiver.close() }
        let drain = EventDrain(receiver)
        var other = url
        other.database = 4
        let elsewhere = try await EventPublisher.connect(url: other, sender: sender, logger: logs.logger())
        defer { elsewhere.close() }
        let here = try await EventPublisher.connect(url: url, sender: sender, logger: logs.logger())
        defer { here.close() }
        await elsewhere.publish(.taskStarted(sender, clock: 1, timestamp: 1, uuid: "db4"))
        await here.publish(.taskStarted(sender, clock: 1, timestamp: 2, uuid: "db3"))
        try await waitUntil(timeout: .seconds(5)) { !drain.events.isEmpty }
        #expect(drain.events.map { $0.task?.uuid } == ["db3"])
    }

    @Test func malformedMessagesAreSkippedAndLoggedOncePerKind() async throws {
        let receiver = try await EventReceiver.connect(url: url, logger: logs.logger())
        defer { receiver.close() }
        let drain = EventDrain(receiver)
        let redis = try await RedisClient.connect(url: url, logger: logs.logger())
        defer { redis.close() }
        let channel = EventChannel.name(db: 3, routingKey: "task.multi")
        func publishRaw(_ bytes: [UInt8]) async throws {
            _ = try await redis.send(RedisCommand("PUBLISH", channel, bytes))
        }
        try await publishRaw(Array("not json".utf8))
        try await publishRaw(Array("{also not json".utf8))
        // A well-formed envelope whose array holds something that is not an event.
        try await publishRaw(
            KombuEnvelope(body: Array("[1, 2]".utf8), headers: [:], properties: ["body_encoding": "base64"]).encoded())
        // A task event without uuid.
        try await publishRaw(
            KombuEnvelope(body: Array(#"{"type": "task-started"}"#.utf8), headers: [:], properties: ["body_encoding": "base64"])
                .encoded())
        let good = CeleryEvent.taskStarted(sender, clock: 9, timestamp: 3, uuid: "still-alive")
        let publisher = EventPublisher(client: redis, sender: sender, logger: logs.logger())
        await publisher.publishTaskEvents([good])

        try await waitUntil(timeout: .seconds(5)) { !drain.events.isEmpty }
        #expect(drain.events == [good])
        let warnings = logs.messages(at: .warning)
        #expect(warnings.count == 3, "\(warnings)")
        #expect(warnings.allSatisfy { $0.hasPrefix("skipping a malformed event message") })
        #expect(warnings.contains { $0.contains("invalidJSON") })
        #expect(warnings.contains { $0.contains("wrongType") })
        #expect(warnings.contains { $0.contains("missingField") })
    }

    @Test func closeFinishesTheStream() async throws {
        let receiver = try await EventReceiver.connect(url: url, logger: logs.logger())
        let drain = EventDrain(receiver)
        receiver.close()
        receiver.close()
        try await waitUntil(timeout: .seconds(2)) { drain.isFinished }
        let probe = try await RedisClient.connect(url: url, logger: logs.logger())
        defer { probe.close() }
        // Generous: this checks that the subscription goes away, not how fast on a loaded machine.
        try await waitUntil(timeout: .seconds(10)) {
            try await probe.send(RedisCommand("PUBSUB", "NUMPAT")).int == 0
        }
    }

    @Test func publishingDuringAnOutageDropsEventsWithOneWarning() async throws {
        var options = RedisOptions()
        options.maxOutageWait = .milliseconds(100)
        options.reconnectBackoff = .milliseconds(20)...(.milliseconds(100))
        let publisher = try await EventPublisher.connect(url: url, sender: sender, options: options, logger: logs.logger())
        defer { publisher.close() }
        server.stop()
        for i in 0..<3 {
            await publisher.publish(.taskStarted(sender, clock: publisher.nextClock(), timestamp: 1, uuid: "lost-\(i)"))
        }
        let dropped = logs.messages(at: .warning).filter { $0.hasPrefix("dropping events") }
        #expect(dropped.count == 1, "\(logs.messages(at: .warning))")
        try server.restart()
        try await waitUntil(timeout: .seconds(5)) {
            await publisher.publish(.taskStarted(sender, clock: publisher.nextClock(), timestamp: 1, uuid: "back"))
            return logs.messages(at: .info).contains("publishing events again")
        }
    }
}
