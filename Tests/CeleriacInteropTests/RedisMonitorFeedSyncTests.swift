import Celeriac
import CeleriacMonitor
import CeleriacTestSupport
import Foundation
import Logging
import CeleriacTestTags
import Testing

/// ``RedisMonitorFeed/finishEvents(fallback:)``, what ends `qmon snapshot`'s and `qmon status`'s
/// listen window: every event published before it is in the buffer afterwards, however much
/// was still unread or undecoded, and the sync marker itself never is.
@Suite(.tags(.integration), .timeLimit(.minutes(1))) struct RedisMonitorFeedSyncTests {
    let server: RedisServer
    let logs = LogRecorder()
    let sender = EventSender(hostname: "w1@test", utcoffset: 0, pid: 1)

    init() throws {
        server = try RedisServer.start()
    }

    private func connectFeed() async throws -> RedisMonitorFeed {
        var config = CeleriacConfig()
        config.brokerURL = server.urlString
        return try await RedisMonitorFeed.connect(config: config, logger: logs.logger(), enableEvents: false)
    }

    /// The task uuids of every event in `inputs`, in order.
    private static func taskIDs(_ inputs: [MonitorInput]) -> [String] {
        inputs.flatMap { input -> [String] in
            guard case .events(let events, _) = input else { return [] }
            return events.map { $0.task?.uuid ?? "not a task event: \($0.type)" }
        }
    }

    @Test func everyEventPublishedBeforeTheWindowClosesIsBuffered() async throws {
        let feed = try await connectFeed()
        let client = try await RedisClient.connect(url: server.url, logger: logs.logger())
        defer { client.close() }

        // Published in one pipeline and the window closed at once: without the marker most of
        // these, the 1 MB one above all, are still unread or undecoded when the feed stops.
        var published: [String] = []
        var commands: [RedisCommand] = []
        for i in 0..<2_000 {
            let uuid = "t\(i)"
            let args = i == 1_000 ? String(repeating: "a", count: 1_000_000) : "()"
            let event = CeleryEvent.taskReceived(
                sender, clock: i, timestamp: 1, uuid: uuid, name: "n", args: args, kwargs: "{}", rootID: nil,
                parentID: nil, retries: 0, eta: nil, expires: nil)
            let publication = EventCodec.encode(event, hostname: sender.hostname, deliveryTag: uuid)
            commands.append(RedisCommand("PUBLISH", publication.channel(db: 0), publication.payload))
            published.append(uuid)
        }
        let replies = try await client.pipeline(commands)
        #expect(replies.allSatisfy { $0.int == 1 }, "each PUBLISH reached the feed's one pattern subscription")

        let complete = await feed.finishEvents()
        let inputs = feed.drain()
        await feed.close()
        #expect(complete)
        #expect(Self.taskIDs(inputs) == published)
        #expect(logs.messages(at: .warning).isEmpty, "\(logs.messages)")
    }

    @Test func withRedisGoneItStopsWithWhatArrivedAndSaysSo() async throws {
        let feed = try await connectFeed()
        server.stop()
        // The PUBLISH fails (the polling connection gives up after its outage wait), so this
        // returns well before the fallback; the suite's time limit catches a hang.
        let complete = await feed.finishEvents(fallback: .seconds(30))
        await feed.close()
        #expect(!complete)
    }
}
