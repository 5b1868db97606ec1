import Celeriac
import CeleriacTestSupport
import CeleriacTestTags
import Foundation
import Logging
import Testing

/// The test kit's ``InMemoryBroker`` and ``RedisBrokerDriver`` on a private redis-server do the
/// same to the same sequence (publish, reserve, ack, store, restore, dead-letter, blocking pop,
/// record, fenced release): the worker logic tests on the in-memory one test what Redis does.
@Suite(.tags(.integration), .timeLimit(.minutes(1))) struct BrokerDriverContractTests {
    /// What a test can see of the store after each step.
    struct Observed: Equatable, CustomStringConvertible {
        /// The queue's task ids, head first; a redelivered one ends in `*`.
        var queue: [String]
        /// Held delivery tags and their owner values.
        var held: [String: String]
        /// The dead letters' reasons, newest first.
        var deadLetters: [String]
        var description: String { "queue \(queue) held \(held.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }) dead \(deadLetters)" }

        static func queue(_ messages: [TaskMessage]) -> [String] { messages.map { $0.id + ($0.redelivered ? "*" : "") } }
    }

    /// The steps, and what was seen after each, plus what the driver answered.
    private func sequence(_ driver: any BrokerDriver, observe: () async throws -> Observed) async throws -> [String] {
        var seen: [String] = []
        func note(_ step: String) async throws { seen.append("\(step): \(try await observe())") }
        let m = (1...3).map { i in
            TaskMessage(name: "t.contract", id: "id-\(i)", args: [.int(i)], deliveryTag: "tag-\(i)", routingKey: "celery")
        }
        await driver.declare(queue: "celery")
        for message in m { await driver.publish(message) }
        try await note("published")
        let first = await driver.reserve(from: ["celery"], count: 2, lane: 0).messages()
        seen.append("reserved \(first.map { "\($0.listKey) \($0.recordedTag ?? "-")" })")
        try await note("reserved")
        driver.ack(tag: "tag-1")
        driver.storeResult(.success(taskID: "id-1", result: .int(1), now: Date(timeIntervalSince1970: 0)))
        await driver.flushed()
        let stored = await driver.storedResult(of: "id-1")
        seen.append("result \(stored.map { "\($0.status.rawValue) \(String(decoding: $0.result.serialized(), as: UTF8.self))" } ?? "none")")
        try await note("acked")
        var again = m[1]
        again.markRedelivered()
        await driver.restore(tag: "tag-2", to: "celery", envelope: again.encoded())
        try await note("restored")
        let second = await driver.reserve(from: ["celery"], count: 1, lane: 1).messages()
        seen.append("reserved \(second.map { "\((try? TaskMessage.decode(bytes: $0.raw))?.id ?? "?") \($0.recordedTag ?? "-")" })")
        let letter = DeadLetter(reason: "contract", queue: "celery", time: Date(timeIntervalSince1970: 0), worker: "contract@test", rawMessage: second[0].raw)
        await driver.deadLetter(letter, to: DeadLetter.listKey, heldAs: second[0].recordedTag)
        try await note("dead-lettered")
        let popped = await driver.blockingPop(from: ["celery"], timeout: 1)
        seen.append("popped \(popped.map { "\($0.listKey) \($0.recordedTag ?? "-")" } ?? "nothing")")
        await driver.recordHeld(HeldMessage(tag: "tag-3", envelope: popped?.raw ?? [], exchange: "", routingKey: "celery"), durably: true)
        try await note("recorded")
        seen.append("still held \(await driver.isStillHeld(tag: "tag-3"))")
        seen.append("released \(String(describing: await driver.releaseIfHeld(tag: "tag-3", restoring: nil)))")
        seen.append("released again \(String(describing: await driver.releaseIfHeld(tag: "tag-3", restoring: nil)))")
        try await note("released")
        return seen
    }

    private let holder = BrokerHolder(node: "contract@test", incarnation: "i1")

    @Test func inMemoryAndRedisDriversDoTheSame() async throws {
        let memory = InMemoryBroker()
        let inMemory = try await sequence(memory.driver(for: holder)) {
            let s = memory.snapshot
            return Observed(queue: Observed.queue(s.messages(in: "celery")), held: s.held.compactMapValues(\.owner),
                            deadLetters: s.deadLetters().map(\.reason))
        }

        let server = try RedisServer.start()
        defer { server.stop() }
        let logger = Logger(label: "contract")
        let consumer = try await RedisClient.connect(url: server.url, logger: logger)
        let broker = try await RedisClient.connect(url: server.url, logger: logger)
        let driver = RedisBrokerDriver(holder: holder, consumer: consumer, broker: broker,
                                       backend: RedisResultBackend(client: broker, expires: 60), logger: logger)
        defer { driver.close() }
        let owner = holder.owner
        let onRedis = try await sequence(driver) {
            let queue = try await broker.send(RedisCommand("LRANGE", "celery", 0, -1)).array ?? []
            let owners = try await broker.send(RedisCommand("HGETALL", "celeriac.unacked_owner")).array ?? []
            let unacked = try await broker.send(RedisCommand("HKEYS", "unacked")).array ?? []
            var held: [String: String] = [:]
            for i in stride(from: 0, to: owners.count - 1, by: 2) { held[owners[i].string ?? ""] = owners[i + 1].string ?? "" }
            #expect(Set(unacked.compactMap(\.string)) == Set(held.keys), "kombu's entries and the owner records agree")
            let letters = try await broker.send(RedisCommand("LRANGE", DeadLetter.listKey, 0, -1)).array ?? []
            return Observed(queue: Observed.queue(queue.compactMap { try? TaskMessage.decode(bytes: $0.bytes ?? []) }), held: held,
                            deadLetters: letters.compactMap { try? DeadLetter.decode($0.bytes ?? []) }.map(\.reason))
        }
        #expect(inMemory == onRedis)
        // And what both saw is what kombu's conventions say.
        #expect(onRedis == [
            #"published: queue ["id-3", "id-2", "id-1"] held [] dead []"#,
            #"reserved ["celery tag-1", "celery tag-2"]"#,
            #"reserved: queue ["id-3"] held ["tag-1=\#(owner)", "tag-2=\#(owner)"] dead []"#,
            "result SUCCESS 1",
            #"acked: queue ["id-3"] held ["tag-2=\#(owner)"] dead []"#,
            #"restored: queue ["id-3", "id-2*"] held [] dead []"#,
            #"reserved ["id-2 tag-2"]"#,
            #"dead-lettered: queue ["id-3"] held [] dead ["contract"]"#,
            "popped celery -",
            #"recorded: queue [] held ["tag-3=\#(owner)"] dead ["contract"]"#,
            "still held true",
            "released Optional(true)",
            "released again Optional(false)",
            #"released: queue [] held [] dead ["contract"]"#,
        ])
    }
}
