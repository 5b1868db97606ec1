import Celeriac
import CeleriacTestSupport
@testable import CeleriacWorker
import Foundation
import Logging
import CeleriacTestTags
import Testing

/// The worker's batched bookkeeping against a real redis-server: the reservation script that
/// pops and records in one step, and the group-committed ack/result writes.
@Suite(.tags(.integration), .timeLimit(.minutes(2))) struct BookkeepingTests {
    let server: RedisServer
    let redis: RedisClient
    let logger = Logger(label: "test-bookkeeping")

    init() async throws {
        server = try RedisServer.start()
        redis = try await RedisClient.connect(url: server.url, logger: logger)
    }

    private func message(_ queue: String = "celery", priority: Int? = nil) -> TaskMessage {
        var options = TaskSendOptions()
        options.queue = queue
        options.priority = priority
        return TaskMessage.make(name: "demo.add", args: [1, 2], kwargs: [:], options: options, origin: "gen1@test",
                                now: Date(), newID: { UUID().uuidString.lowercased() })
    }

    private func reserve(_ lists: [String], count: Int, token: String = UUID().uuidString, lane: Int = 0, now: Double = 1) async throws -> [ReservedMessage] {
        MessageReservation.parse(try await redis.send(MessageReservation.command(lists: lists, count: count, now: now, owner: "w@h inc", token: token, lane: lane)))
    }

    @Test func reservationPopsInConsumeOrderAndRecordsWhatKombuRecords() async throws {
        defer { redis.close(); server.stop() }
        let first = message()
        let second = message()
        let lowest = message(priority: 9)
        for m in [first, second, lowest] { _ = try await redis.send(RedisBroker.publishCommand(m)) }
        _ = try await redis.send(RedisCommand("LPUSH", "celery", Array("not json".utf8)))
        _ = try await redis.send(RedisCommand("LPUSH", "celery", Array(#"{"properties": {"delivery_tag": 7}}"#.utf8)))
        // kombu's consume order for one queue: the plain list (priority 0, the highest) first.
        let lists = QueueKeys.consumeOrder(queues: ["celery"])
        let taken = try await reserve(lists, count: 4, now: 1_700_000_000.5)
        #expect(taken.map { $0.recordedTag } == [first.deliveryTag, second.deliveryTag, nil, nil])
        #expect(taken.map { $0.listKey } == ["celery", "celery", "celery", "celery"])
        #expect(taken[2].raw == Array("not json".utf8), "what the script cannot parse comes back unrecorded, to be dead-lettered")
        #expect(try await redis.send(RedisCommand("LLEN", "celery")).int == 0)

        // Exactly the entry kombu writes, plus the owner record.
        let entry = try await redis.send(RedisCommand("HGET", QueueKeys.unacked, first.deliveryTag)).bytes
        #expect(entry == UnackedEntry.encode(envelopeBytes: first.encoded(), exchange: first.exchange, routingKey: first.routingKey))
        #expect(try await redis.send(RedisCommand("ZSCORE", QueueKeys.unackedIndex, first.deliveryTag)).string == "1700000000.5")
        #expect(try await redis.send(RedisCommand("HGET", OrphanRecovery.ownerKey, second.deliveryTag)).string == "w@h inc")
        #expect(try await redis.send(RedisCommand("HLEN", QueueKeys.unacked)).int == 2)

        let rest = try await reserve(lists, count: 10)
        #expect(rest.map { $0.recordedTag } == [lowest.deliveryTag])
        #expect(rest.map { $0.listKey } == [QueueKeys.list(queue: "celery", priority: 9)])
        #expect(try await reserve(lists, count: 10).isEmpty)
    }

    @Test func aBatchOfBigMessagesStopsAtAboutAMegabyte() async throws {
        defer { redis.close(); server.stop() }
        var options = TaskSendOptions()
        options.queue = "celery"
        let big = (0..<3).map { _ in
            TaskMessage.make(name: "demo.echo", args: [.string(String(repeating: "x", count: 600_000))], kwargs: [:], options: options,
                             origin: "gen1@test", now: Date(), newID: { UUID().uuidString.lowercased() })
        }
        for m in big { _ = try await redis.send(RedisBroker.publishCommand(m)) }
        let taken = try await reserve(["celery"], count: 10)
        #expect(taken.count == 2, "the second message crosses a megabyte, so the batch ends there")
        #expect(try await redis.send(RedisCommand("LLEN", "celery")).int == 1)
        #expect(try await reserve(["celery"], count: 10).count == 1)
    }

    @Test func envelopesInOtherSpellingsAreRecordedToo() async throws {
        defer { redis.close(); server.stop() }
        // Compact separators (other clients), and an escaped routing key only a JSON decoder reads.
        let compact = #"{"body":"W10=","headers":{},"properties":{"delivery_info":{"exchange":"","routing_key":"celery"},"delivery_tag":"t-compact"}}"#
        let escaped = #"{"body": "W10=", "headers": {}, "properties": {"delivery_info": {"exchange": "", "routing_key": "café"}, "delivery_tag": "t-escaped"}}"#
        for raw in [compact, escaped] { _ = try await redis.send(RedisCommand("LPUSH", "celery", Array(raw.utf8))) }
        let taken = try await reserve(["celery"], count: 2)
        #expect(taken.map { $0.recordedTag } == ["t-compact", "t-escaped"])
        let entry = try #require(try await redis.send(RedisCommand("HGET", QueueKeys.unacked, "t-escaped")).bytes)
        #expect(try UnackedEntry.decode(entry).routingKey == "café")
        let plain = try #require(try await redis.send(RedisCommand("HGET", QueueKeys.unacked, "t-compact")).bytes)
        #expect(try UnackedEntry.decode(plain).routingKey == "celery")
    }

    @Test func fieldsAreReadFromThePropertiesHoweverLongTheMessageOrThePropertiesAre() async throws {
        defer { redis.close(); server.stop() }
        // Decoys with the same names earlier in the message: the script must record the values in
        // the properties, which kombu writes last.
        var decoyHeaders = TaskSendOptions()
        decoyHeaders.headers = ["delivery_tag": "decoy-tag", "exchange": "decoy-exchange", "routing_key": "decoy-key"]
        // A big message: the properties are in the part of it the script searches first.
        var big = decoyHeaders
        big.queue = "celery"
        // A queue name so long that `exchange` lies before that part: the script must fall back
        // to the whole message and still find the last occurrence.
        var longQueue = decoyHeaders
        longQueue.queue = String(repeating: "q", count: 2_000)
        let messages = [
            TaskMessage.make(name: "demo.echo", args: [.string(String(repeating: "x", count: 20_000))], options: big,
                             origin: "gen1@test", now: Date(), newID: { UUID().uuidString.lowercased() }),
            TaskMessage.make(name: "demo.echo", args: [1], options: longQueue,
                             origin: "gen1@test", now: Date(), newID: { UUID().uuidString.lowercased() }),
        ]
        for m in messages { _ = try await redis.send(RedisBroker.publishCommand(m)) }
        let taken = try await reserve(messages.map(\.listKey), count: 2)
        #expect(taken.map { $0.recordedTag } == messages.map { Optional($0.deliveryTag) })
        for m in messages {
            let entry = try await redis.send(RedisCommand("HGET", QueueKeys.unacked, m.deliveryTag)).bytes
            #expect(entry == UnackedEntry.encode(envelopeBytes: m.encoded(), exchange: "", routingKey: m.routingKey))
        }
    }

    @Test func aLookAlikeOfThePropertiesNestedInTheHeadersIsNotRead() async throws {
        defer { redis.close(); server.stop() }
        // A header holding an object written exactly like the properties' last fields: it sits
        // in the part of the message searched first, but does not end the message.
        var options = TaskSendOptions()
        options.queue = "celery"
        options.headers = [
            "zz_lookalike": .object([
                "delivery_info": .object(["exchange": "decoy-exchange", "routing_key": "decoy-key"]), "priority": 0,
                "body_encoding": "base64", "delivery_tag": "decoy-tag",
            ])
        ]
        let m = TaskMessage.make(name: "demo.add", args: [1, 2], options: options, origin: "gen1@test", now: Date(),
                                 newID: { UUID().uuidString.lowercased() })
        let raw = m.encoded()
        let text = String(decoding: raw, as: UTF8.self)
        #expect(text.contains(#""delivery_info": {"exchange": "decoy-exchange", "routing_key": "decoy-key"}, "priority": 0, "body_encoding": "base64", "delivery_tag": "decoy-tag"}"#))
        #expect(text.utf8.count - (text.range(of: "decoy-tag")!.lowerBound.utf16Offset(in: text)) < 640, "the decoy is in the searched tail")
        _ = try await redis.send(RedisCommand("LPUSH", "celery", raw))
        let taken = try await reserve(["celery"], count: 1)
        #expect(taken.map { $0.recordedTag } == [m.deliveryTag])
        let entry = try #require(try await redis.send(RedisCommand("HGET", QueueKeys.unacked, m.deliveryTag)).bytes)
        #expect(entry == UnackedEntry.encode(envelopeBytes: raw, exchange: "", routingKey: "celery"))
    }

    @Test func repeatingAReservationWithItsTokenReturnsTheSameBatchInsteadOfTakingMore() async throws {
        defer { redis.close(); server.stop() }
        let messages = (0..<5).map { _ in message() }
        for m in messages { _ = try await redis.send(RedisBroker.publishCommand(m)) }
        let lists = QueueKeys.consumeOrder(queues: ["celery"])
        let lost = try await reserve(lists, count: 3, token: "a")
        let repeated = try await reserve(lists, count: 3, token: "a")
        #expect(lost.count == 3)
        #expect(repeated == lost, "a reply lost to an outage is fetched again, not a new batch")
        #expect(try await redis.send(RedisCommand("LLEN", "celery")).int == 2)
        let next = try await reserve(lists, count: 3, token: "b")
        #expect(next.map { $0.recordedTag } == messages.suffix(2).map { Optional($0.deliveryTag) })
        // An empty reservation keeps the last batch: repeating "b" still answers "b".
        #expect(try await reserve(lists, count: 3, token: "c").isEmpty)
        #expect(try await reserve(lists, count: 3, token: "b") == next)
    }

    @Test func twoReservationsInFlightOnTheirOwnLanesCanBothBeFetchedAgain() async throws {
        defer { redis.close(); server.stop() }
        let messages = (0..<6).map { _ in message() }
        for m in messages { _ = try await redis.send(RedisBroker.publishCommand(m)) }
        let lists = QueueKeys.consumeOrder(queues: ["celery"])
        // Both replies lost with the connection: each is asked for again with its token.
        let first = try await reserve(lists, count: 2, token: "a", lane: 0)
        let second = try await reserve(lists, count: 2, token: "b", lane: 1)
        #expect(try await reserve(lists, count: 2, token: "a", lane: 0) == first)
        #expect(try await reserve(lists, count: 2, token: "b", lane: 1) == second)
        #expect(first.map(\.recordedTag) == messages.prefix(2).map { Optional($0.deliveryTag) })
        #expect(second.map(\.recordedTag) == messages[2..<4].map { Optional($0.deliveryTag) })
        #expect(try await redis.send(RedisCommand("LLEN", "celery")).int == 2, "no repeat took more")
        #expect(MessageReservation.lastPopKey(owner: "w@h inc", lane: 0) != MessageReservation.lastPopKey(owner: "w@h inc", lane: 1))
    }

    @Test func batchedAcksRemoveEveryRecordAndWritesKeepTheirOrder() async throws {
        defer { redis.close(); server.stop() }
        let messages = (0..<50).map { _ in message() }
        for m in messages { _ = try await redis.send(RedisBroker.publishCommand(m)) }
        _ = try await reserve(QueueKeys.consumeOrder(queues: ["celery"]), count: 50)
        #expect(try await redis.send(RedisCommand("HLEN", QueueKeys.unacked)).int == 50)

        let writes = WriteBatcher(client: redis, logger: logger, refusals: WriteRefusals(logger: logger))
        for (i, m) in messages.enumerated() {
            writes.ack(m.deliveryTag)
            // The last SET of a key wins only if writes keep their order.
            writes.write([RedisCommand("SET", "order", i), RedisCommand("RPUSH", "log", i)])
        }
        writes.write([RedisCommand("SET", "order", "last")])
        await writes.flushed()
        #expect(try await redis.send(RedisCommand("HLEN", QueueKeys.unacked)).int == 0)
        #expect(try await redis.send(RedisCommand("ZCARD", QueueKeys.unackedIndex)).int == 0)
        #expect(try await redis.send(RedisCommand("HLEN", OrphanRecovery.ownerKey)).int == 0)
        #expect(try await redis.send(RedisCommand("GET", "order")).string == "last")
        #expect(try await redis.send(RedisCommand("LLEN", "log")).int == 50)
        // Writes queued while a flush was in flight were merged: far fewer ack commands than tags.
        let stats = CommandStats(info: try await redis.send(RedisCommand("INFO", "commandstats")).string ?? "")
        let calls = stats.calls["zrem"] ?? 0
        #expect(calls >= 1 && calls < 50, "acks are merged into trios (\(calls) ZREM for 50 tags)")
    }

    /// Acks and running marks queued before the worker's liveness lapsed are sent after it
    /// resumes: while it may no longer own those tags (fenced), each is applied only where the
    /// owner record still names it, so a peer that took a restored message keeps its records.
    @Test func acksAndRunningMarksSentWhileFencedLeaveAPeersRecordsAlone() async throws {
        defer { redis.close(); server.stop() }
        let me = "me@h inc1", peer = "peer@h inc2"
        for (tag, owner) in [("peers", peer), ("mine", OrphanRecovery.running(me)), ("marked", peer), ("mark-mine", me)] {
            _ = try await redis.send(RedisCommand("HSET", QueueKeys.unacked, tag, "entry"))
            _ = try await redis.send(RedisCommand("ZADD", QueueKeys.unackedIndex, 1, tag))
            _ = try await redis.send(RedisCommand("HSET", OrphanRecovery.ownerKey, tag, owner))
        }
        let writes = WriteBatcher(client: redis, logger: logger, refusals: WriteRefusals(logger: logger), fencedOwner: { me })
        writes.ack("peers")
        writes.ack("mine")
        writes.markRunning("marked", owner: me)
        writes.markRunning("mark-mine", owner: me)
        await writes.flushed()
        #expect(try await redis.send(RedisCommand("HEXISTS", QueueKeys.unacked, "peers")).int == 1)
        #expect(try await redis.send(RedisCommand("ZSCORE", QueueKeys.unackedIndex, "peers")).string != nil)
        #expect(try await redis.send(RedisCommand("HGET", OrphanRecovery.ownerKey, "peers")).string == peer)
        #expect(try await redis.send(RedisCommand("HEXISTS", QueueKeys.unacked, "mine")).int == 0, "its own ack goes through")
        #expect(try await redis.send(RedisCommand("HEXISTS", OrphanRecovery.ownerKey, "mine")).int == 0)
        #expect(try await redis.send(RedisCommand("HGET", OrphanRecovery.ownerKey, "marked")).string == peer)
        #expect(try await redis.send(RedisCommand("HGET", OrphanRecovery.ownerKey, "mark-mine")).string == OrphanRecovery.running(me))

        // Not fenced: the plain trio, as kombu's ack (whoever holds the tag).
        let plain = WriteBatcher(client: redis, logger: logger, refusals: WriteRefusals(logger: logger))
        plain.ack("peers")
        await plain.flushed()
        #expect(try await redis.send(RedisCommand("HEXISTS", QueueKeys.unacked, "peers")).int == 0)
    }

    @Test func aRestoreQueuedAfterAnAckIsSentAfterIt() async throws {
        defer { redis.close(); server.stop() }
        let writes = WriteBatcher(client: redis, logger: logger, refusals: WriteRefusals(logger: logger))
        // A stale ack of tag t must not erase the record the next holder writes after the restore.
        writes.ack("t")
        writes.restore("t", to: "q", envelope: Array("m".utf8))
        writes.write([RedisCommand("HSET", QueueKeys.unacked, "t", "next holder")])
        await writes.flushed()
        #expect(try await redis.send(RedisCommand("HGET", QueueKeys.unacked, "t")).string == "next holder")
        #expect(try await redis.send(RedisCommand("LRANGE", "q", 0, -1)).array?.compactMap(\.string) == ["m"])
    }

    /// A restore queued before the worker's liveness lapsed and sent after it resumes: a peer
    /// may have restored the message and hold it now under the same tag, so it is put back (a
    /// second copy) and un-recorded only where the owner record still names this worker.
    @Test func aRestoreSentWhileFencedLeavesAPeersMessageAlone() async throws {
        defer { redis.close(); server.stop() }
        let me = "me@h inc1", peer = "peer@h inc2"
        for (tag, owner) in [("peers", peer), ("mine", me)] {
            _ = try await redis.send(RedisCommand("HSET", QueueKeys.unacked, tag, "entry"))
            _ = try await redis.send(RedisCommand("ZADD", QueueKeys.unackedIndex, 1, tag))
            _ = try await redis.send(RedisCommand("HSET", OrphanRecovery.ownerKey, tag, owner))
        }
        let writes = WriteBatcher(client: redis, logger: logger, refusals: WriteRefusals(logger: logger), fencedOwner: { me })
        writes.restore("peers", to: "q", envelope: Array("theirs".utf8))
        writes.restore("mine", to: "q", envelope: Array("mine".utf8))
        await writes.flushed()
        #expect(try await redis.send(RedisCommand("LRANGE", "q", 0, -1)).array?.compactMap(\.string) == ["mine"], "no second copy of the peer's")
        #expect(try await redis.send(RedisCommand("HGET", OrphanRecovery.ownerKey, "peers")).string == peer)
        #expect(try await redis.send(RedisCommand("HEXISTS", QueueKeys.unacked, "peers")).int == 1)
        #expect(try await redis.send(RedisCommand("HEXISTS", QueueKeys.unacked, "mine")).int == 0)
        #expect(try await redis.send(RedisCommand("HEXISTS", OrphanRecovery.ownerKey, "mine")).int == 0)
    }

    @Test func aRecordAckedWhileQueuedNeverReachesRedisAndOneThatMustWaitIsSent() async throws {
        defer { redis.close(); server.stop() }
        _ = try await redis.send(RedisCommand("CONFIG", "RESETSTAT"))
        let writes = WriteBatcher(client: redis, logger: logger, refusals: WriteRefusals(logger: logger))
        // Acked as it starts: the record and the ack cancel out, and nothing is sent.
        writes.record("started", [RedisCommand("HSET", QueueKeys.unacked, "started", "entry")])
        writes.ack("started")
        // A message that has to wait first: its record goes out when the worker says so.
        writes.record("waiting", [RedisCommand("HSET", QueueKeys.unacked, "waiting", "entry")])
        writes.sendQueued()
        try await waitUntil(timeout: .seconds(10)) {
            try await redis.send(RedisCommand("HGET", QueueKeys.unacked, "waiting")).string == "entry"
        }
        // Its ack, no longer cancelling anything, is sent after it.
        writes.ack("waiting")
        await writes.flushed()
        #expect(try await redis.send(RedisCommand("HLEN", QueueKeys.unacked)).int == 0)
        let stats = CommandStats(info: try await redis.send(RedisCommand("INFO", "commandstats")).string ?? "")
        func calls(_ command: String) -> Int { stats.calls[command] ?? 0 }
        #expect(calls("hset") == 1, "only the waiting message's record was sent")
        #expect(calls("zrem") == 1, "only the waiting message's ack was sent")
    }

    @Test func flushedSendsQueuedRecordsItWaitsFor() async throws {
        defer { redis.close(); server.stop() }
        let writes = WriteBatcher(client: redis, logger: logger, refusals: WriteRefusals(logger: logger))
        writes.record("t", [RedisCommand("HSET", QueueKeys.unacked, "t", "entry")])
        await writes.flushed()
        #expect(try await redis.send(RedisCommand("HGET", QueueKeys.unacked, "t")).string == "entry")
    }

    @Test func flushedReturnsAtOnceWhenNothingIsQueued() async throws {
        defer { redis.close(); server.stop() }
        let writes = WriteBatcher(client: redis, logger: logger, refusals: WriteRefusals(logger: logger))
        await writes.flushed()
        writes.write([RedisCommand("SET", "k", "v")])
        await writes.flushed()
        #expect(try await redis.send(RedisCommand("GET", "k")).string == "v")
    }
}
