import Celeriac
import CeleriacTestSupport
import CeleriacTestTags
import CeleriacWorker
import Foundation
import Logging
import Synchronization
import Testing

/// The worker's logic on the in-memory broker (``InMemoryBroker``), no redis-server: what it
/// stores, acks, publishes, keeps and dead-letters after a body ends, in what order, how many
/// messages it holds at once, and what a warm shutdown gives back. Every wait is the store's
/// ``InMemoryBroker/until(_:)`` or a gate the test opens: no sleeps, no clocks.
@Suite(.tags(.unit), .timeLimit(.minutes(1))) struct WorkerLogicTests {
    /// Holds task bodies until the test opens it, and counts the bodies that reached it.
    final class Gate: Sendable {
        private struct State {
            var isOpen = false
            var entered = 0
            var passing: [CheckedContinuation<Void, Never>] = []
            var counting: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
        }

        private let state = Mutex(State())

        /// Counts this body in, then waits until the gate is open.
        func pass() async {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let (go, reached) = state.withLock { s -> (Bool, [CheckedContinuation<Void, Never>]) in
                    s.entered += 1
                    let entered = s.entered
                    var reached: [CheckedContinuation<Void, Never>] = []
                    s.counting.removeAll { w in
                        guard w.count <= entered else { return false }
                        reached.append(w.continuation)
                        return true
                    }
                    if !s.isOpen { s.passing.append(c) }
                    return (s.isOpen, reached)
                }
                for r in reached { r.resume() }
                if go { c.resume() }
            }
        }

        /// Lets every body through, now and later.
        func open() {
            let waiting = state.withLock { s in
                s.isOpen = true
                defer { s.passing = [] }
                return s.passing
            }
            for c in waiting { c.resume() }
        }

        /// Returns once `count` bodies reached the gate.
        func waitEntered(_ count: Int) async {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = state.withLock { s in
                    if s.entered >= count { return true }
                    s.counting.append((count, c))
                    return false
                }
                if now { c.resume() }
            }
        }

        var entered: Int { state.withLock { $0.entered } }
    }

    /// A worker running on `broker` until ``stop()``.
    struct RunningWorker {
        let worker: Worker
        let node: String
        let run: Task<Void, any Error>

        /// Warm shutdown, then waits for `run()` to return.
        func stop() async throws {
            worker.beginShutdown()
            try await run.value
        }
    }

    /// Starts a worker on `broker` and returns once it is about to take messages (its first
    /// liveness refresh is in the store).
    private func start(_ broker: InMemoryBroker, node: String = "logic@\(UUID().uuidString.prefix(6))", tasks: TaskRegistry,
                       concurrency: Int = 2, prefetchMultiplier: Int = 4,
                       configure: (inout WorkerSettings) -> Void = { _ in }) async throws -> RunningWorker {
        var settings = WorkerSettings(brokerURL: try RedisURL(parsing: "redis://127.0.0.1:1/0"), resultBackendURL: nil,
                                      concurrency: concurrency, prefetchMultiplier: prefetchMultiplier, nodeName: node)
        settings.mingle = false
        configure(&settings)
        var logger = Logger(label: "logic-worker")
        // The errors these tests provoke (dead letters, failures) are asserted, not logged; HARNESS_DEBUG=1 shows them.
        logger.logLevel = ProcessInfo.processInfo.environment["HARNESS_DEBUG"] != nil ? .debug : .critical
        let worker = Worker(settings: settings, tasks: tasks, logger: logger) { broker.driver(for: $0) }
        let run = Task { try await worker.run() }
        await broker.until { $0.liveness[node] != nil }
        return RunningWorker(worker: worker, node: node, run: run)
    }

    private func message(_ name: String, _ args: [JSONValue] = []) -> TaskMessage {
        TaskMessage.make(name: name, args: args, origin: "gen1@logic-test", now: Date(), newID: { UUID().uuidString.lowercased() })
    }

    /// The tasks these tests run; `gate` holds `t.where` (which returns the node that ran it).
    private func registry(gate: Gate = Gate()) -> TaskRegistry {
        var r = TaskRegistry()
        r.register("t.add", parameters: ["x", "y"]) { (x: Int, y: Int) in x + y }
        r.register("t.add_late", parameters: ["x", "y"], options: TaskOptions(acksLate: true)) { (x: Int, y: Int) in x + y }
        r.register("t.fail", parameters: ["why"]) { (why: String) -> Int in throw TaskError.valueError(why) }
        r.register("t.retry_once", parameters: []) { () -> Int in
            let context = TaskContext.current!
            if context.retries == 0 { throw context.retry(countdown: 0, error: TaskError.runtimeError("not yet")) }
            return context.retries
        }
        r.register("t.flaky", parameters: [], options: TaskOptions(maxRetries: 1, defaultRetryDelay: 0, autoretryFor: ["RuntimeError"])) { () -> Int in
            throw TaskError.runtimeError("flaky")
        }
        r.register("t.where", parameters: []) { () -> String in
            let node = TaskContext.current!.hostname
            await gate.pass()
            return node
        }
        r.register("t.where_late", parameters: [], options: TaskOptions(acksLate: true)) { () -> String in
            let node = TaskContext.current!.hostname
            await gate.pass()
            return node
        }
        return r
    }

    // (a)
    /// Celery's default: the message is acked as its task starts, the SUCCESS result stored
    /// after the body, and nothing of it is left held or queued.
    @Test func aSuccessStoresItsResultAndTheMessageWasAckedAsItStarted() async throws {
        let broker = InMemoryBroker()
        let w = try await start(broker, tasks: registry())
        let m = message("t.add", [2, 3])
        broker.publish([m])
        #expect(await broker.until { $0.results[m.id] != nil })
        try await w.stop()
        let s = broker.snapshot
        #expect(s.results[m.id]?.status == .success)
        #expect(s.results[m.id]?.result == .int(5))
        #expect(s.held.isEmpty, "no record left")
        #expect(s.list("celery").isEmpty)
        let recorded = try #require(s.index(of: .recorded(tag: m.deliveryTag)))
        let acked = try #require(s.index(of: .acked(tag: m.deliveryTag)))
        let stored = try #require(s.index(of: .stored(taskID: m.id, state: .success)))
        #expect(recorded < acked && acked < stored, "recorded, acked at start, then the result: \(s.log)")
    }

    // (b)
    /// `acks_late`: marked running, the result stored, and only then the ack (Celery acks a late
    /// task after its result is stored, so a crash in between runs it again rather than lose it).
    @Test func aLateAckComesAfterTheResult() async throws {
        let broker = InMemoryBroker()
        let w = try await start(broker, tasks: registry())
        let m = message("t.add_late", [20, 22])
        broker.publish([m])
        #expect(await broker.until { $0.log.contains(.acked(tag: m.deliveryTag)) })
        try await w.stop()
        let s = broker.snapshot
        #expect(s.results[m.id]?.result == .int(42))
        #expect(s.held.isEmpty)
        let running = try #require(s.index(of: .markedRunning(tag: m.deliveryTag)))
        let stored = try #require(s.index(of: .stored(taskID: m.id, state: .success)))
        let acked = try #require(s.index(of: .acked(tag: m.deliveryTag)))
        #expect(running < stored && stored < acked, "marked running, result, then the ack: \(s.log)")
    }

    // (c)
    /// `self.retry()`: a new message with the same id, `retries + 1`, an ETA, a fresh delivery
    /// tag and the original as parent is published before RETRY is stored; the original is
    /// acked; the retry then runs.
    @Test func aRetryPublishesTheNextMessageAndAcksTheOriginal() async throws {
        let broker = InMemoryBroker()
        let w = try await start(broker, tasks: registry())
        let m = message("t.retry_once")
        broker.publish([m])
        #expect(await broker.until { $0.results[m.id]?.status == .success })
        try await w.stop()
        let s = broker.snapshot
        #expect(s.results[m.id]?.result == .int(1), "the retry ran with retries 1")
        let retries = s.published.filter { $0.id == m.id && $0.deliveryTag != m.deliveryTag }
        let next = try #require(retries.first)
        #expect(retries.count == 1)
        #expect(next.retries == 1)
        #expect(next.eta != nil)
        #expect(next.parentID == m.id)
        #expect(next.name == m.name)
        #expect(s.log.contains(.acked(tag: m.deliveryTag)), "the original is acked")
        let published = try #require(s.log.lastIndex(of: .published(taskID: m.id)))
        let retry = try #require(s.index(of: .stored(taskID: m.id, state: .retry)))
        #expect(published < retry, "the retry's message is out before RETRY is stored: \(s.log)")
        #expect(s.held.isEmpty)
    }

    /// `autoretry_for`: a listed error retries (a published message with `retries + 1`) until
    /// `max_retries` runs out, then the task fails with that error.
    @Test func autoretryRetriesUntilMaxRetriesThenFails() async throws {
        let broker = InMemoryBroker()
        let w = try await start(broker, tasks: registry())
        let m = message("t.flaky")
        broker.publish([m])
        #expect(await broker.until { $0.results[m.id]?.status == .failure })
        try await w.stop()
        let s = broker.snapshot
        #expect(s.published.filter { $0.id == m.id }.map(\.retries) == [0, 1], "the original, then one retry")
        #expect(s.results[m.id]?.exception?.type == "RuntimeError")
        let retry = try #require(s.index(of: .stored(taskID: m.id, state: .retry)))
        let failure = try #require(s.index(of: .stored(taskID: m.id, state: .failure)))
        #expect(retry < failure)
        #expect(s.held.isEmpty)
    }

    // (d)
    /// A failure keeps the original message (for `qmon retry`) before its FAILURE is stored, so
    /// whoever sees the failure can already retry it.
    @Test func aFailureKeepsTheOriginalBeforeStoringFailure() async throws {
        let broker = InMemoryBroker()
        let w = try await start(broker, tasks: registry())
        let m = message("t.fail", ["boom"])
        broker.publish([m])
        #expect(await broker.until { $0.results[m.id] != nil })
        try await w.stop()
        let s = broker.snapshot
        #expect(s.results[m.id]?.status == .failure)
        #expect(s.results[m.id]?.exception == ExceptionInfo(type: "ValueError", message: ["boom"], module: "builtins"))
        #expect(s.keptOriginals[m.id] == m.encoded(), "the message exactly as it was taken")
        let kept = try #require(s.index(of: .keptOriginal(taskID: m.id)))
        let failure = try #require(s.index(of: .stored(taskID: m.id, state: .failure)))
        #expect(kept < failure, "\(s.log)")
        #expect(s.log.contains(.acked(tag: m.deliveryTag)))
        #expect(s.held.isEmpty)
    }

    // (e)
    /// Messages the worker cannot decode go to the dead-letter list with the reason; one the
    /// reservation recorded as held (it has a delivery tag) loses that record with it.
    @Test func undecodableMessagesAreDeadLetteredWithNoRecordLeft() async throws {
        let broker = InMemoryBroker()
        let garbage: [[UInt8]] = [
            Array("not json at all".utf8),
            // An envelope with a delivery tag but no task: recorded by the reservation, then dead-lettered.
            Array(#"{"body": "W10=", "content-encoding": "utf-8", "content-type": "application/json", "headers": {}, "properties": {"body_encoding": "base64", "delivery_tag": "t2"}}"#.utf8),
        ]
        // Waiting before the worker starts, so its first reservation takes both.
        for raw in garbage { broker.push(raw, to: "celery") }
        let w = try await start(broker, tasks: registry())
        #expect(await broker.until { $0.deadLetters().count == 2 })
        try await w.stop()
        let s = broker.snapshot
        let letters = s.deadLetters()
        for letter in letters {
            #expect(!letter.reason.isEmpty)
            #expect(letter.queue == "celery")
            #expect(letter.worker == w.node)
        }
        #expect(Set(letters.map(\.message)) == Set(garbage.map { String(decoding: $0, as: UTF8.self) }))
        #expect(s.log.contains(.recorded(tag: "t2")), "the reservation recorded the tagged one")
        #expect(s.log.contains(.deadLettered(tag: "t2")), "and the dead letter removed that record")
        #expect(s.held.isEmpty)
        #expect(s.list("celery").isEmpty)
    }

    /// An unknown task name: FAILURE `NotRegistered`, and the message is acked (not redelivered).
    @Test func anUnregisteredTaskIsMarkedNotRegisteredAndAcked() async throws {
        let broker = InMemoryBroker()
        let w = try await start(broker, tasks: registry())
        let m = message("nope.unknown", [1])
        broker.publish([m])
        #expect(await broker.until { $0.results[m.id] != nil && $0.log.contains(.acked(tag: m.deliveryTag)) })
        try await w.stop()
        let s = broker.snapshot
        #expect(s.results[m.id]?.status == .failure)
        #expect(s.results[m.id]?.exception == ExceptionInfo(type: "NotRegistered", message: ["nope.unknown"], module: "celery.exceptions"))
        #expect(s.held.isEmpty)
        #expect(s.list("celery").isEmpty)
    }

    // (f)
    /// The prefetch window: concurrency 1 × multiplier 2 holds at most 2 messages at once. With
    /// the first task held at the gate (acked as it started), the next two are held and the
    /// other seven wait on the queue; once the gate opens all ten finish, and the store's
    /// high-water mark of held records never passed 2.
    @Test func thePrefetchWindowBoundsTheMessagesHeld() async throws {
        let broker = InMemoryBroker()
        let gate = Gate()
        let messages = (0..<10).map { _ in message("t.where") }
        broker.publish(messages)
        let w = try await start(broker, tasks: registry(gate: gate), concurrency: 1, prefetchMultiplier: 2)
        await gate.waitEntered(1)
        // Either the steady state of a 2-message window, or a window that took more.
        #expect(await broker.until { ($0.held.count == 2 && $0.list("celery").count == 7) || $0.held.count > 2 })
        var s = broker.snapshot
        #expect(s.held.count == 2)
        #expect(s.list("celery").count == 7)
        #expect(gate.entered == 1, "concurrency 1")
        gate.open()
        #expect(await broker.until { s in messages.allSatisfy { s.results[$0.id]?.status == .success } })
        try await w.stop()
        s = broker.snapshot
        #expect(s.peakHeld == 2, "never more than the window held at once")
        #expect(s.held.isEmpty)
        #expect(s.list("celery").isEmpty)
        #expect(gate.entered == 10)
    }

    // (g)
    /// A warm shutdown lets the running task finish and puts the messages held but not started
    /// back at the tail of their queue (read next), flagged redelivered, with their records gone.
    @Test func aWarmShutdownRestoresHeldMessagesToTheTailFlaggedRedelivered() async throws {
        let broker = InMemoryBroker()
        let gate = Gate()
        // Published in order: m[0] is read first (the tail), m[4] last (the head).
        let m = (0..<5).map { _ in message("t.where") }
        broker.publish(m)
        let w = try await start(broker, tasks: registry(gate: gate), concurrency: 1, prefetchMultiplier: 2)
        await gate.waitEntered(1)
        #expect(await broker.until { ($0.held.count == 2 && $0.list("celery").count == 2) || $0.held.count > 2 })
        #expect(Set(broker.snapshot.held.keys) == [m[1].deliveryTag, m[2].deliveryTag])
        w.worker.beginShutdown()
        #expect(await broker.until { $0.held.isEmpty })
        gate.open()
        try await w.run.value
        let s = broker.snapshot
        #expect(s.results[m[0].id]?.result == .string(w.node), "the running task finished")
        #expect(s.results[m[1].id] == nil && s.results[m[2].id] == nil, "the held ones did not run")
        let queue = s.messages(in: "celery")
        try #require(queue.count == 4)
        #expect(queue[0].id == m[4].id && queue[1].id == m[3].id, "the waiting ones stay at the head")
        #expect(!queue[0].redelivered && !queue[1].redelivered)
        #expect(Set(queue[2...].map(\.id)) == [m[1].id, m[2].id], "the restored ones are read next")
        #expect(queue[2...].allSatisfy { $0.redelivered && $0.extraHeaders["redelivered"] == .bool(true) })
        #expect(s.log.contains(.restored(tag: m[1].deliveryTag)) && s.log.contains(.restored(tag: m[2].deliveryTag)))
    }

    // (h)
    /// Two workers on one store: the messages one puts back at its warm shutdown are taken and
    /// run by the other, which was waiting (blocked) on the empty queue.
    @Test func aMessageOneWorkerRestoresIsRunByAnother() async throws {
        let broker = InMemoryBroker()
        let gate = Gate()
        let m = (0..<3).map { _ in message("t.where") }
        broker.publish(m)
        let first = try await start(broker, node: "first@logic", tasks: registry(gate: gate), concurrency: 1, prefetchMultiplier: 2)
        await gate.waitEntered(1)
        #expect(await broker.until { $0.held.count == 2 && $0.list("celery").isEmpty })
        let second = try await start(broker, node: "second@logic", tasks: registry(gate: gate), concurrency: 1, prefetchMultiplier: 1)
        first.worker.beginShutdown()
        #expect(await broker.until { $0.log.contains(.restored(tag: m[1].deliveryTag)) && $0.log.contains(.restored(tag: m[2].deliveryTag)) })
        gate.open()
        #expect(await broker.until { s in m.allSatisfy { s.results[$0.id] != nil } })
        try await first.run.value
        try await second.stop()
        let s = broker.snapshot
        #expect(s.results[m[0].id]?.result == .string("first@logic"))
        #expect(s.results[m[1].id]?.result == .string("second@logic"))
        #expect(s.results[m[2].id]?.result == .string("second@logic"))
        for message in m[1...] {
            let restored = try #require(s.index(of: .restored(tag: message.deliveryTag)))
            #expect(s.log[(restored + 1)...].contains(.recorded(tag: message.deliveryTag)), "held again, by the second worker")
        }
        #expect(s.held.isEmpty)
        #expect(s.list("celery").isEmpty)
    }

    /// A store that refuses writes (Redis out of memory, read-only) keeps the late task's result
    /// and its ack waits for it: the message stays held, not acked without its result; once the
    /// store takes writes again the result is stored, then the ack.
    @Test func aLateAckWaitsForItsResultWhileTheStoreRefusesWrites() async throws {
        let broker = InMemoryBroker()
        let gate = Gate()
        let m = message("t.where_late")
        broker.publish([m])
        let w = try await start(broker, tasks: registry(gate: gate), concurrency: 1, prefetchMultiplier: 1)
        await gate.waitEntered(1)
        broker.refusesWrites = true
        gate.open()
        #expect(await broker.until { $0.queuedWrites > 0 })
        var s = broker.snapshot
        #expect(s.results[m.id] == nil, "the result is held back, not stored")
        #expect(s.held[m.deliveryTag] != nil, "and the message is still held")
        #expect(!s.log.contains(.acked(tag: m.deliveryTag)))
        broker.refusesWrites = false
        #expect(await broker.until { $0.log.contains(.acked(tag: m.deliveryTag)) })
        try await w.stop()
        s = broker.snapshot
        #expect(s.results[m.id]?.result == .string(w.node))
        let stored = try #require(s.index(of: .stored(taskID: m.id, state: .success)))
        let acked = try #require(s.index(of: .acked(tag: m.deliveryTag)))
        #expect(stored < acked)
        #expect(s.held.isEmpty)
        #expect(s.queuedWrites == 0)
    }

    /// Orphan recovery: a worker starting beside a holder whose liveness is gone puts back the
    /// message that holder only held (flagged redelivered, then runs it), and dead-letters the
    /// one it died running once too often (`worker_lost` count past `workerLostRedeliveries`),
    /// storing FAILURE `WorkerLostError` for it so a waiting caller hears of it.
    @Test func aSweepRestoresADeadHoldersMessagesAndDeadLettersTheOneItDiedRunningTooOften() async throws {
        let broker = InMemoryBroker()
        let dead = broker.driver(for: BrokerHolder(node: "dead@logic", incarnation: "gone"))
        _ = await dead.refreshLiveness(window: LivenessWindow())
        let prefetched = message("t.add", [1, 2])
        var poison = message("t.add", [3, 4])
        // Running on three dead workers already: the default allows three redeliveries.
        poison.extraHeaders[LostWorkers.header] = .int(3)
        broker.publish([prefetched, poison])
        let taken = await dead.reserve(from: ["celery"], count: 2, lane: 0).messages()
        #expect(taken.compactMap(\.recordedTag) == [prefetched.deliveryTag, poison.deliveryTag])
        await dead.markRunning(tag: poison.deliveryTag, stored: true)
        broker.expireLiveness(of: "dead@logic")
        let w = try await start(broker, tasks: registry())
        // The poison message's FAILURE is stored by the sweep, before the worker takes messages.
        #expect(await broker.until { $0.results[prefetched.id] != nil })
        try await w.stop()
        let s = broker.snapshot
        #expect(s.results[prefetched.id]?.result == .int(3))
        let restored = try #require(s.index(of: .restored(tag: prefetched.deliveryTag)))
        #expect(s.log[(restored + 1)...].contains(.recorded(tag: prefetched.deliveryTag)), "taken again after it was put back")
        #expect(s.results[poison.id]?.status == .failure)
        #expect(s.results[poison.id]?.exception?.type == "WorkerLostError")
        let letters = s.deadLetters()
        #expect(letters.count == 1)
        #expect(letters.first?.reason.contains("was running when its worker died 4 times") == true)
        #expect(s.held.isEmpty)
        #expect(s.list("celery").isEmpty)
    }
}
