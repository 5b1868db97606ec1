import Celeriac
import CeleriacTestSupport
import Foundation
import Logging
import CeleriacTestTags
import Testing

/// ``EventReceiver/finish(atSyncMarker:)``: the stream ends right after everything published
/// before the marker, and no sync marker ever becomes an event or a warning.
@Suite(.tags(.integration)) struct EventReceiverSyncMarkerTests {
    let server: RedisServer
    let logs = LogRecorder()
    /// A database other than 0, so the marker's channel must carry it.
    let url: RedisURL
    let sender = EventSender(hostname: "w1@test", utcoffset: 0, pid: 1)

    init() throws {
        server = try RedisServer.start()
        var url = server.url
        url.database = 3
        self.url = url
    }

    /// PUBLISHes a task-started event for `uuid` and returns once Redis accepted it.
    private func publish(_ uuid: String, on client: RedisClient) async throws {
        let publication = EventCodec.encode(
            .taskStarted(sender, clock: 1, timestamp: 1, uuid: uuid), hostname: sender.hostname, deliveryTag: uuid)
        _ = try await client.send(RedisCommand("PUBLISH", publication.channel(db: url.database), publication.payload))
    }

    @Test func theStreamEndsRightAfterEverythingPublishedBeforeTheMarker() async throws {
        let receiver = try await EventReceiver.connect(url: url, logger: logs.logger())
        defer { receiver.close() }
        let drain = EventDrain(receiver)
        let client = try await RedisClient.connect(url: url, logger: logs.logger())
        defer { client.close() }

        // Enough, and one large enough, that the receiver is still reading and decoding them
        // when the marker is published.
        var before = (0..<500).map { "before-\($0)" }
        for uuid in before { try await publish(uuid, on: client) }
        let huge = EventCodec.encode(
            .taskReceived(
                sender, clock: 1, timestamp: 1, uuid: "huge", name: "n", args: String(repeating: "a", count: 1_000_000),
                kwargs: "{}", rootID: nil, parentID: nil, retries: 0, eta: nil, expires: nil),
            hostname: sender.hostname, deliveryTag: "huge")
        _ = try await client.send(RedisCommand("PUBLISH", huge.channel(db: url.database), huge.payload))
        before.append("huge")
        let token = UUID().uuidString
        receiver.finish(atSyncMarker: token)
        _ = try await client.send(RedisCommand("PUBLISH", EventChannel.syncMarker(db: url.database, token: token), ""))
        try await publish("after", on: client)

        try await waitUntil(timeout: .seconds(20)) { drain.isFinished }
        #expect(drain.events.map { $0.task?.uuid } == before)
        #expect(logs.messages(at: .warning).isEmpty, "\(logs.messages)")
    }

    @Test func anotherMonitorsMarkerIsSkippedSilently() async throws {
        let receiver = try await EventReceiver.connect(url: url, logger: logs.logger())
        defer { receiver.close() }
        let drain = EventDrain(receiver)
        receiver.finish(atSyncMarker: "mine")
        let client = try await RedisClient.connect(url: url, logger: logs.logger())
        defer { client.close() }

        _ = try await client.send(RedisCommand("PUBLISH", EventChannel.syncMarker(db: url.database, token: "theirs"), ""))
        try await publish("next", on: client)

        // Delivered in publish order: once "next" is here, the other marker was handled.
        try await waitUntil(timeout: .seconds(5)) { !drain.events.isEmpty }
        #expect(drain.events.map { $0.task?.uuid } == ["next"])
        #expect(!drain.isFinished)
        #expect(logs.messages(at: .warning).isEmpty, "\(logs.messages)")
    }
}
