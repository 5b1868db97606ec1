import Celeriac
import CeleriacTestSupport
import Foundation
import Logging
import Synchronization
import CeleriacTestTags
import Testing

/// Swift's ``ControlClient`` and ``EventReceiver`` against a real Python Celery 5.7 worker.
@Suite(.tags(.integration), .serialized, .timeLimit(.minutes(2))) struct ControlClientInteropTests {
    private static func logger() -> Logger {
        var logger = Logger(label: "interop-control")
        logger.logLevel = .warning
        return logger
    }

    /// Pings until the worker answers (it takes a few seconds to start) and returns its node name.
    private static func waitForNode(_ control: ControlClient, _ worker: ChildProcess) async throws -> String {
        var node: String?
        do {
            try await waitUntil(timeout: .seconds(30)) {
                node = try await control.ping(timeout: .milliseconds(500)).keys.first
                return node != nil
            }
        } catch {
            throw InteropFailure("the Python worker never answered ping:\n\(worker.output)")
        }
        return node!
    }

    @Test func pingInspectAndRevokeAPythonWorker() async throws {
        let h = try InteropHarness()
        defer { h.close() }
        let worker = try h.startPythonWorker()
        defer { worker.stopNow() }
        let control = try await ControlClient.connect(url: h.server.url, logger: Self.logger())
        let node = try await Self.waitForNode(control, worker)
        #expect(node.hasPrefix("py@"))
        #expect(try await control.ping(destination: [node]) == [node: ["ok": "pong"]])

        let registered = try #require(try await control.inspect("registered")[node]?.arrayValue)
        for name in ["demo.add", "demo.echo", "demo.fail", "demo.mul", "demo.sleep"] {
            #expect(registered.contains(.string(name)), "\(registered)")
        }
        let stats = try #require(try await control.inspect("stats")[node])
        #expect(stats["total"]?.objectValue != nil)
        #expect(stats["pid"] == .int(Int(worker.pid)))
        #expect(stats["clock"]?.stringValue != nil, "stats.clock is a string")

        let client = try await h.client()
        defer { client.close() }
        let sleeper = try await client.delay("demo.sleep", 30)
        try await waitUntil(timeout: .seconds(10)) {
            let active = try await control.inspect("active", destination: [node])[node]?.arrayValue ?? []
            return active.contains { $0["id"] == .string(sleeper.id) }
        }
        try await control.revoke([sleeper.id], terminate: true)
        let meta = try await sleeper.wait(timeout: .seconds(10))
        #expect(meta.status == .revoked, "\(worker.output)")
        #expect(meta.exception?.type == "TaskRevokedError")
        let revoked = try await control.inspect("revoked", destination: [node])[node]?.arrayValue ?? []
        #expect(revoked.contains(.string(sleeper.id)))
        await control.close()
    }

    @Test func eventsOfAPythonWorkerAndTaskSentFromSwift() async throws {
        let h = try InteropHarness()
        defer { h.close() }
        let receiver = try await EventReceiver.connect(url: h.server.url, logger: Self.logger())
        defer { receiver.close() }
        let events = ReceivedEvents()
        let drain = Task { [receiver] in
            for await event in receiver.events { events.append(event) }
        }
        defer { drain.cancel() }
        let channels = ChannelLog()
        let raw = try await RedisSubscriber.connect(url: h.server.url, logger: Self.logger()) { event in
            if case .patternMessage(_, let channel, _) = event { channels.append(channel) }
        }
        defer { raw.close() }
        try await raw.psubscribe([EventChannel.pattern(db: 0)])
        let worker = try h.startPythonWorker(arguments: ["-E"])
        defer { worker.stopNow() }
        let control = try await ControlClient.connect(url: h.server.url, logger: Self.logger())
        defer { Task { await control.close() } }
        let node = try await Self.waitForNode(control, worker)

        // worker-online once ready; a heartbeat at once on the `heartbeat` command.
        try await waitUntil(timeout: .seconds(10)) {
            events.all.contains { $0.kind == .workerOnline && $0.hostname == node }
        }
        try await control.heartbeat()
        try await waitUntil(timeout: .seconds(5)) {
            events.all.contains { $0.kind == .workerHeartbeat && $0.hostname == node }
        }

        var config = CeleriacConfig()
        config.brokerURL = h.server.urlString
        config.taskSendSentEvent = true
        let client = try await CeleriacClient.connect(config: config, logger: Self.logger())
        defer { client.close() }
        let result = try await client.delay("demo.add", 2, 3)
        #expect(try await result.get(as: Int.self, timeout: .seconds(10)) == 5)

        // task-received/started/succeeded come from the worker in task.multi batches.
        func taskEvents() -> [CeleryEvent] { events.all.filter { $0.task?.uuid == result.id } }
        try await waitUntil(timeout: .seconds(5)) {
            let kinds = taskEvents().map(\.kind)
            return kinds.contains(.taskSent) && kinds.contains(.taskSucceeded)
        }
        let mine = taskEvents()
        // task-sent races the worker's first batch (as in Celery); the worker's own events are ordered.
        #expect(mine.filter { $0.kind != .taskSent }.map(\.kind) == [.taskReceived, .taskStarted, .taskSucceeded], "\(mine.map(\.type))")
        #expect(mine.filter { $0.kind == .taskSent }.count == 1)
        let sent = try #require(mine.first { $0.kind == .taskSent })
        #expect(sent.hostname == client.origin)
        #expect(sent.pid == Int(ProcessInfo.processInfo.processIdentifier))
        #expect(sent.utcoffset == CeleryEvent.localUTCOffset())
        #expect(sent.task?.name == "demo.add")
        #expect(sent.task?.args == "(2, 3)")
        #expect(sent.task?.queue == "celery")
        #expect(sent.task?.routingKey == "celery")
        let received = try #require(mine.first { $0.kind == .taskReceived })
        #expect(received.hostname == node)
        #expect(received.task?.name == "demo.add")
        #expect(received.task?.args == "(2, 3)")
        let succeeded = try #require(mine.first { $0.kind == .taskSucceeded })
        #expect(succeeded.task?.result == "5")
        #expect(succeeded.task?.runtime != nil)
        // The worker batched them: nothing was published on a per-type task channel.
        #expect(channels.all.contains("/0.celeryev/task.multi"))
        #expect(channels.all.contains("/0.celeryev/task.sent"))
        #expect(!channels.all.contains("/0.celeryev/task.received"))
    }
}

/// Values appended from another task or thread, readable from the test.
private final class Appended<Value: Sendable>: Sendable {
    private let values = Mutex<[Value]>([])

    func append(_ value: Value) { values.withLock { $0.append(value) } }

    var all: [Value] { values.withLock { $0 } }
}

private typealias ReceivedEvents = Appended<CeleryEvent>
private typealias ChannelLog = Appended<String>
