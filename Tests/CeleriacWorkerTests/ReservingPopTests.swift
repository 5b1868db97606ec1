import Celeriac
import CeleriacTestSupport
@testable import CeleriacWorker
import Foundation
import Logging
import Testing

/// The pop that records what it takes in the same atomic step, so a worker killed right after
/// a pop cannot lose the message: it is either on its list or in `unacked` with its holder.
@Suite struct ReservingPopTests {
    let server: RedisServer
    let redis: RedisClient

    init() async throws {
        server = try RedisServer.start()
        redis = try await RedisClient.connect(url: server.url, logger: Logger(label: "reserving-pop"))
    }

    private func message(queue: String = "celery", priority: Int? = nil) -> TaskMessage {
        var options = TaskSendOptions()
        options.queue = queue
        options.priority = priority
        return TaskMessage.make(name: "demo.add", args: [1, 2], kwargs: [:], options: options, origin: "gen1@test", now: Date(),
                                newID: { UUID().uuidString.lowercased() })
    }

    @Test func aPoppedMessageIsAlreadyInUnackedExactlyAsKombuRecordsIt() async throws {
        defer { redis.close(); server.stop() }
        let m = message()
        let raw = m.encoded()
        _ = try await redis.send(RedisCommand("LPUSH", "celery", raw))
        let reply = try await redis.send(ReservingPop.command(keys: QueueKeys.consumeOrder(queues: ["celery"]), owner: "w@h inc1", token: "t1",
                                                              now: Date(timeIntervalSince1970: 1_700_000_000.5)))
        let popped = try #require(ReservingPop.parse(reply))
        #expect(popped.key == "celery")
        #expect(popped.raw == raw)
        #expect(try await redis.send(RedisCommand("LLEN", "celery")).int == 0)
        let entry = try await redis.send(RedisCommand("HGET", QueueKeys.unacked, m.deliveryTag)).bytes
        #expect(entry == UnackedEntry.encode(envelopeBytes: raw, exchange: m.exchange, routingKey: m.routingKey))
        #expect(try await redis.send(RedisCommand("HGET", OrphanRecovery.ownerKey, m.deliveryTag)).string == "w@h inc1")
        #expect(try await redis.send(RedisCommand("ZSCORE", QueueKeys.unackedIndex, m.deliveryTag)).string == "1700000000.5")
    }

    @Test func repeatingAPopWithItsTokenReturnsWhatItTookInsteadOfTakingMore() async throws {
        defer { redis.close(); server.stop() }
        let first = message()
        let second = message()
        _ = try await redis.send(RedisCommand("LPUSH", "celery", first.encoded()))
        _ = try await redis.send(RedisCommand("LPUSH", "celery", second.encoded()))
        let lost = try #require(ReservingPop.parse(try await redis.send(ReservingPop.command(keys: ["celery"], owner: "w@h i", token: "a"))))
        let repeated = try #require(ReservingPop.parse(try await redis.send(ReservingPop.command(keys: ["celery"], owner: "w@h i", token: "a"))))
        #expect(repeated.key == "celery" && repeated.raw == lost.raw && lost.raw == first.encoded())
        #expect(try await redis.send(RedisCommand("LLEN", "celery")).int == 1)
        let next = try #require(ReservingPop.parse(try await redis.send(ReservingPop.command(keys: ["celery"], owner: "w@h i", token: "b"))))
        #expect(next.raw == second.encoded())
    }

    @Test func takesFromTheFirstNonEmptyListInConsumeOrder() async throws {
        defer { redis.close(); server.stop() }
        let low = message(queue: "other", priority: 9)
        let high = message(queue: "other", priority: 0)
        _ = try await redis.send(RedisCommand("LPUSH", low.listKey, low.encoded()))
        _ = try await redis.send(RedisCommand("LPUSH", high.listKey, high.encoded()))
        let keys = QueueKeys.consumeOrder(queues: ["celery", "other"])
        let first = try #require(ReservingPop.parse(try await redis.send(ReservingPop.command(keys: keys, owner: "w@h i", token: UUID().uuidString))))
        let second = try #require(ReservingPop.parse(try await redis.send(ReservingPop.command(keys: keys, owner: "w@h i", token: UUID().uuidString))))
        #expect(first.key == high.listKey && second.key == low.listKey)
        #expect(ReservingPop.parse(try await redis.send(ReservingPop.command(keys: keys, owner: "w@h i", token: UUID().uuidString))) == nil)
    }

    @Test func somethingThatIsNotATaskMessageIsReturnedUnrecorded() async throws {
        defer { redis.close(); server.stop() }
        _ = try await redis.send(RedisCommand("LPUSH", "celery", Array("not json \u{1}".utf8)))
        _ = try await redis.send(RedisCommand("LPUSH", "celery", Array(#"{"properties": {"delivery_tag": 7}}"#.utf8)))
        for _ in 0..<2 {
            #expect(ReservingPop.parse(try await redis.send(ReservingPop.command(keys: ["celery"], owner: "w@h i", token: UUID().uuidString))) != nil)
        }
        #expect(try await redis.send(RedisCommand("HLEN", QueueKeys.unacked)).int == 0)
        #expect(try await redis.send(RedisCommand("HLEN", OrphanRecovery.ownerKey)).int == 0)
    }
}
