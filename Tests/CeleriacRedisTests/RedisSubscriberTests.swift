@testable import Celeriac
import CeleriacTestSupport
import Foundation
import Logging
import CeleriacTestTags
import Testing

/// Events a subscriber's handler received, readable from the test.
///
/// `@unchecked Sendable` is sound: `storage` is only accessed under `lock`.
final class EventCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [RedisPubSubEvent] = []

    var events: [RedisPubSubEvent] {
        lock.lock()
        defer { lock.unlock() }
        return storage
    }

    var handler: @Sendable (RedisPubSubEvent) -> Void {
        { event in
            self.lock.lock()
            self.storage.append(event)
            self.lock.unlock()
        }
    }
}

@Suite("RedisSubscriber: pub/sub loop that survives outages", .tags(.integration))
struct RedisSubscriberTests {
    let server: RedisServer
    let publisher: RedisConnection
    let logs = LogRecorder()
    let collector = EventCollector()

    init() throws {
        server = try RedisServer.start(password: "pubsub-secret")
        publisher = try RedisConnection(url: server.url)
    }

    private func subscriber(_ name: String = "events", idleWake: Duration? = nil) async throws -> RedisSubscriber {
        var options = RedisOptions()
        options.name = name
        if let idleWake { options.subscriberIdleWake = idleWake }
        options.reconnectBackoff = .milliseconds(20)...(.milliseconds(200))
        return try await RedisSubscriber.connect(
            url: server.url, options: options, logger: logs.logger(), handler: collector.handler)
    }

    private func publish(_ channel: String, _ payload: [UInt8]) throws -> Int? {
        try publisher.send(RedisCommand("PUBLISH", channel, payload)).int
    }

    @Test func subscribeDeliversMessagesWithExactBytes() async throws {
        let sub = try await subscriber()
        defer { sub.close() }
        let a = "\(#function):a"
        let b = "\(#function):b"
        try await sub.subscribe([a, b])
        let binary: [UInt8] = [0, 1, 0, 255] + Array("snow ☃ \u{0}".utf8)
        let big = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        // subscribe() returned after confirmation, so the first publish already has a receiver.
        #expect(try publish(a, binary) == 1)
        #expect(try publish(b, big) == 1)
        #expect(try publish(a, []) == 1)
        try await waitUntil(timeout: .seconds(2)) { collector.events.count == 3 }
        #expect(
            collector.events == [
                .message(channel: a, payload: binary), .message(channel: b, payload: big), .message(channel: a, payload: []),
            ])
    }

    @Test func psubscribeDeliversPatternMessages() async throws {
        let sub = try await subscriber()
        defer { sub.close() }
        let pattern = "\(#function).*"
        try await sub.psubscribe([pattern])
        let channel = "\(#function).worker-1"
        #expect(try publish(channel, Array("hello".utf8)) == 1)
        #expect(try publish("other-\(#function)", Array("nope".utf8)) == 0)
        try await waitUntil(timeout: .seconds(2)) { !collector.events.isEmpty }
        #expect(collector.events == [.patternMessage(pattern: pattern, channel: channel, payload: Array("hello".utf8))])
    }

    @Test func unsubscribeStopsDelivery() async throws {
        let sub = try await subscriber()
        defer { sub.close() }
        let a = "\(#function):a"
        let b = "\(#function):b"
        let pattern = "\(#function):p*"
        try await sub.subscribe([a, b])
        try await sub.psubscribe([pattern])
        try await sub.unsubscribe([a])
        #expect(try publish(a, [1]) == 0)
        #expect(try publish(b, [2]) == 1)
        try await sub.punsubscribe([])
        #expect(try publish("\(#function):px", [3]) == 0)
        try await sub.unsubscribe([])
        #expect(try publish(b, [4]) == 0)
        try await sub.unsubscribe([])  // nothing left: returns at once
        // Redis delivers one connection's messages in order: once a later message has arrived,
        // anything the unsubscribed channels still carried would have arrived before it.
        let end = "\(#function):end"
        try await sub.subscribe([end])
        #expect(try publish(end, [9]) == 1)
        try await waitUntil(timeout: .seconds(5)) { collector.events.last == .message(channel: end, payload: [9]) }
        #expect(collector.events == [.message(channel: b, payload: [2]), .message(channel: end, payload: [9])])
    }

    @Test func subscribeWithoutWaitingReportsTheConfirmationThroughItsCallback() async throws {
        let sub = try await subscriber()
        let a = "\(#function):a"
        let b = "\(#function):b"
        let outcomes = EventCollector()
        // Fire-and-forget requests, then one awaited: requests are written in call order, so the
        // callbacks have run (with success) by the time the awaited one returns.
        sub.subscribe([a, b]) { result in
            if case .success = result { outcomes.handler(.message(channel: "confirmed", payload: [])) }
        }
        sub.unsubscribe([b]) { result in
            if case .success = result { outcomes.handler(.message(channel: "unsubscribed", payload: [])) }
        }
        try await sub.subscribe(["\(#function):sync"])
        #expect(outcomes.events.map { if case .message(let c, _) = $0 { c } else { "" } } == ["confirmed", "unsubscribed"])
        #expect(try publish(a, [1]) == 1)
        #expect(try publish(b, [2]) == 0)
        try await waitUntil(timeout: .seconds(5)) { collector.events.count == 1 }
        sub.close()
        // After close the callback still runs exactly once, with the error.
        sub.subscribe(["\(#function):late"]) { result in
            if case .failure(let error) = result, error.code == .closed {
                outcomes.handler(.message(channel: "closed", payload: []))
            }
        }
        try await waitUntil(timeout: .seconds(5)) { outcomes.events.count == 3 }
    }

    @Test func aDeferredRequestWaitsForAFlush() async throws {
        // Idle wake-ups far apart, so only the flush or the name limit can write the requests.
        let sub = try await subscriber(idleWake: .seconds(120))
        defer { sub.close() }
        let channel = "\(#function):one"
        let outcomes = EventCollector()
        let wakeUps = sub.callerWakeUps
        sub.subscribe([channel], deferred: true) { result in
            if case .success = result { outcomes.handler(.message(channel: "confirmed", payload: [])) }
        }
        // The loop, asleep with nothing subscribed, is woken only by a caller: none asked, so
        // the request cannot be written before the flush.
        #expect(sub.callerWakeUps == wakeUps, "the deferred request left the loop asleep")
        #expect(try publish(channel, [1]) == 0, "not written yet")
        #expect(outcomes.events.isEmpty)
        sub.flush()
        try await waitUntil(timeout: .seconds(5)) { outcomes.events.count == 1 }
        #expect(try publish(channel, [2]) == 1)
    }

    @Test func deferredRequestsWakeTheLoopOnceEnoughNamesWait() async throws {
        // A fresh subscriber that receives nothing, so only the name limit can wake it.
        let sub = try await subscriber(idleWake: .seconds(120))
        defer { sub.close() }
        let outcomes = EventCollector()
        let many = (0..<RedisSubscriber.deferredWakeLimit).map { "\(#function):many-\($0)" }
        let wakeUps = sub.callerWakeUps
        sub.subscribe(Array(many.dropLast()), deferred: true) { _ in }
        #expect(sub.callerWakeUps == wakeUps, "one name short of the limit, the loop sleeps on")
        #expect(try publish(many[0], [3]) == 0)
        sub.subscribe([many.last!], deferred: true) { result in
            if case .success = result { outcomes.handler(.message(channel: "backlog", payload: [])) }
        }
        #expect(sub.callerWakeUps == wakeUps + 1, "the name that reaches the limit wakes it")
        try await waitUntil(timeout: .seconds(5)) { outcomes.events.count == 1 }
        #expect(try publish(many[0], [4]) == 1)
    }

    @Test func closeDropsTheSubscriptionAndIsIdempotent() async throws {
        try await closeThenCheck(within: .seconds(30))
    }

    /// The same with "prompt" checked: a wall-clock threshold, so tagged `timing` and left out
    /// of the default run (`scripts/test.sh --timing`).
    @Test(.tags(.timing)) func closeIsPromptAndIdempotent() async throws {
        try await closeThenCheck(within: .seconds(2))
    }

    private func closeThenCheck(within bound: Duration) async throws {
        let sub = try await subscriber()
        try await sub.subscribe(["\(#function):c"])
        // Timed without awaiting, so a busy cooperative pool cannot skew it.
        let started = ContinuousClock.now
        sub.close()
        sub.close()
        let gone = try pollSynchronously(timeout: bound) {
            try publisher.send(RedisCommand("CLIENT", "LIST", "TYPE", "pubsub")).string?.isEmpty == true
        }
        #expect(gone)
        // The wake-up pipe interrupts the loop's poll at once; the bound leaves a loaded machine room.
        #expect(ContinuousClock.now - started < bound)
        await #expect { try await sub.subscribe(["x"]) } throws: { ($0 as? RedisError)?.code == .closed }
    }

    @Test func replaysSubscriptionsAfterServerRestart() async throws {
        let sub = try await subscriber("events")
        defer { sub.close() }
        let channel = "\(#function):c"
        let pattern = "\(#function):p.*"
        try await sub.subscribe([channel])
        try await sub.psubscribe([pattern])
        try server.restart()
        try await waitUntil(timeout: .seconds(5)) { collector.events.contains(.reconnected) }

        let fresh = try RedisConnection(url: server.url)
        #expect(try fresh.send(RedisCommand("PUBLISH", channel, "after")).int == 1)
        #expect(try fresh.send(RedisCommand("PUBLISH", "\(#function):p.1", "pat")).int == 1)
        try await waitUntil(timeout: .seconds(2)) { collector.events.count == 3 }
        #expect(
            collector.events == [
                .reconnected, .message(channel: channel, payload: Array("after".utf8)),
                .patternMessage(pattern: pattern, channel: "\(#function):p.1", payload: Array("pat".utf8)),
            ])
        // Subscription changes still work on the new connection.
        try await sub.unsubscribe([channel])
        #expect(try fresh.send(RedisCommand("PUBLISH", channel, "gone")).int == 0)

        let warnings = logs.messages(at: .warning)
        #expect(warnings.count == 1)
        #expect(warnings.first?.hasPrefix("redis events at redis://:***@127.0.0.1:") == true)
        #expect(logs.messages(at: .info).first?.hasPrefix("redis events reconnected after ") == true)
        #expect(logs.lines.allSatisfy { !$0.message.contains("pubsub-secret") })
    }

    @Test func connectFailsFastOnWrongPassword() async throws {
        var url = server.url
        url.password = "bad-pubsub-pw"
        await #expect {
            _ = try await RedisSubscriber.connect(url: url, logger: logs.logger(), handler: collector.handler)
        } throws: { error in
            guard let error = error as? RedisError else { return false }
            return error.code == .authenticationFailed && !error.description.contains("bad-pubsub-pw")
        }
    }
}
