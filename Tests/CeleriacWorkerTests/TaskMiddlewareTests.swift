import Celeriac
import CeleriacDemoTasks
import CeleriacTestSupport
import CeleriacWorker
import Foundation
import Synchronization
import CeleriacTestTags
import Testing

/// Celery's signals as ``TaskMiddleware``: each hook once, in Celery's order, for a task that
/// succeeds, fails, retries and is revoked, from a Swift client and from Python Celery's.
@Suite(.tags(.integration), .timeLimit(.minutes(2))) struct TaskMiddlewareTests {
    /// Records every hook as one line, per task id.
    final class Recorder: TaskMiddleware {
        private let lines = Mutex<[String]>([])
        private func add(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
        /// The lines about `id`, without it.
        func calls(_ id: String) -> [String] {
            all.filter { $0.hasSuffix(" " + id) || $0.contains(" " + id + " ") }.map { $0.replacingOccurrences(of: " " + id, with: "") }
        }

        func beforePublish(_ message: inout TaskMessage) {
            message.extraHeaders["x-traced"] = .bool(true)
            add("beforePublish \(message.id)")
        }
        func afterPublish(_ message: TaskMessage) { add("afterPublish \(message.id)") }
        func workerReady(node: String) { add("workerReady") }
        func workerShutdown(node: String) { add("workerShutdown") }
        func taskPrerun(_ task: TaskContext) { add("prerun \(task.id)") }
        func taskSuccess(_ task: TaskContext, result: JSONValue) { add("success \(task.id) \(PythonRepr.saferepr(result))") }
        func taskFailure(_ task: TaskContext, error: TaskError, traceback: String) { add("failure \(task.id) \(error.type)") }
        func taskRetry(_ task: TaskContext, reason: TaskError, eta: Date) { add("retry \(task.id) \(reason.type)") }
        func taskRevoked(_ task: TaskContext, terminated: Bool, signal: Int?, expired: Bool) {
            add("revoked \(task.id) terminated=\(terminated) expired=\(expired)")
        }
        func taskPostrun(_ task: TaskContext, state: TaskState) { add("postrun \(task.id) \(state.rawValue)") }
    }

    private func registry() -> TaskRegistry {
        var r = DemoTasks.registry
        r.register("t.retry_once", parameters: [], options: TaskOptions(maxRetries: 3)) { () -> Int in
            let ctx = TaskContext.current!
            if ctx.retries == 0 { throw ctx.retry(countdown: 0.1, error: TaskError.runtimeError("not yet")) }
            return ctx.retries
        }
        r.register("t.wait", parameters: []) { () -> Int in
            try await Task.sleep(for: .seconds(60))
            return 0
        }
        return r
    }

    /// Waits until `id`'s postrun (or revoke) hook ran: the result can be read before it does.
    private func settled(_ recorder: Recorder, _ id: String, _ line: String) async throws {
        try await waitUntil(timeout: .seconds(20)) { recorder.calls(id).contains(line) }
    }

    @Test func hooksRunOnceInCeleryOrderForSuccessFailureAndRetry() async throws {
        let worker = Recorder()
        let client = Recorder()
        let h = try await WorkerHarness(tasks: registry(), middleware: [worker], clientMiddleware: [client])
        defer { Task { await h.close() } }
        #expect(worker.all.first == "workerReady")

        let ok = try await h.client.delay("demo.add", 2, 3)
        #expect(try await ok.get(timeout: .seconds(20)) == .int(5))
        try await settled(worker, ok.id, "postrun SUCCESS")
        #expect(client.calls(ok.id) == ["beforePublish", "afterPublish"])
        #expect(worker.calls(ok.id) == ["prerun", "success 5", "postrun SUCCESS"])

        let failing = try await h.client.delay("demo.fail", "boom")
        _ = try? await failing.get(timeout: .seconds(20))
        try await settled(worker, failing.id, "postrun FAILURE")
        #expect(worker.calls(failing.id) == ["prerun", "failure ValueError", "postrun FAILURE"])

        // The retry's message goes through the publish hooks too, as Celery's task.retry does.
        let retried = try await h.client.send("t.retry_once")
        #expect(try await retried.get(timeout: .seconds(20)) == .int(1))
        try await settled(worker, retried.id, "postrun SUCCESS")
        #expect(worker.calls(retried.id) == ["prerun", "beforePublish", "afterPublish", "retry RuntimeError", "postrun RETRY",
                                             "prerun", "success 1", "postrun SUCCESS"])
        #expect(client.calls(retried.id) == ["beforePublish", "afterPublish"])

        try await h.stopWorker()
        #expect(worker.all.last == "workerShutdown")
    }

    @Test func revokedTasksCallTheRevokedHook() async throws {
        let worker = Recorder()
        let h = try await WorkerHarness(tasks: registry(), middleware: [worker])
        defer { Task { await h.close() } }
        let control = try await h.control()
        defer { Task { await control.close() } }

        let running = try await h.client.send("t.wait")
        try await waitUntil(timeout: .seconds(20)) { worker.calls(running.id) == ["prerun"] }
        try await control.revoke([running.id], terminate: true)
        try await settled(worker, running.id, "postrun REVOKED")
        #expect(worker.calls(running.id) == ["prerun", "revoked terminated=true expired=false", "postrun REVOKED"])

        // Revoked before it started: no prerun, no postrun.
        let later = try await h.client.send("demo.add", args: [1, 1], options: TaskSendOptions(countdown: 1))
        try await control.revoke([later.id])
        try await settled(worker, later.id, "revoked terminated=false expired=false")
        #expect(worker.calls(later.id) == ["revoked terminated=false expired=false"])
    }

    /// A task sent by Python Celery's `send_task` goes through the same hooks.
    @Test func aPythonClientsTasksGoThroughTheWorkersHooks() async throws {
        let worker = Recorder()
        let h = try await WorkerHarness(tasks: registry(), middleware: [worker])
        defer { Task { await h.close() } }
        let logs = try TemporaryDirectory(prefix: "celeriac-middleware")
        defer { logs.remove() }
        let python = try ChildProcess(
            "pyclient", executable: TestEnvironment.python,
            arguments: [TestEnvironment.interopDirectory.appendingPathComponent("pyclient.py").path, "basic"],
            environment: ["CELERY_BROKER_URL": h.server.urlString, "CELERY_RESULT_BACKEND": h.server.urlString,
                          "PYTHONPATH": TestEnvironment.interopDirectory.path],
            workingDirectory: TestEnvironment.interopDirectory, logDirectory: logs)
        #expect(await python.wait(timeout: .seconds(60)) == 0, "\(python.output)")
        let sent = try python.output.split(separator: "\n").filter { $0.hasPrefix("{") }.map { try JSONParser.parse(String($0)) }
        func id(of task: String) -> String? {
            sent.first { $0["task"]?.stringValue == task }?["id"]?.stringValue
        }
        let add = try #require(id(of: "demo.add"))
        let fail = try #require(id(of: "demo.fail"))
        try await settled(worker, add, "postrun SUCCESS")
        try await settled(worker, fail, "postrun FAILURE")
        #expect(worker.calls(add) == ["prerun", "success 5", "postrun SUCCESS"])
        #expect(worker.calls(fail) == ["prerun", "failure ValueError", "postrun FAILURE"])
    }

    /// `beforePublish` may change the message: what it set is what reaches Redis, from `send`
    /// and from `sendMany` alike.
    @Test func beforePublishChangesWhatIsSent() async throws {
        let server = try RedisServer.start()
        defer { server.stop() }
        var config = CeleriacConfig()
        config.brokerURL = server.urlString
        config.taskDefaultQueue = "nobody-consumes"
        let recorder = Recorder()
        let client = try await CeleriacClient.connect(config: config, logger: .init(label: "test"), middleware: [recorder])
        defer { client.close() }
        let one = try await client.send("demo.add", args: [1, 2])
        let many = try await client.sendMany([.init("demo.add", args: [3, 4]), .init("demo.add", args: [5, 6])], subscribingResults: false)
        let redis = try await RedisClient.connect(url: server.url, logger: .init(label: "probe"))
        defer { redis.close() }
        let raw = try await redis.send(RedisCommand("LRANGE", "nobody-consumes", 0, -1)).array ?? []
        let sent = try raw.map { try TaskMessage.decode(bytes: $0.bytes ?? []) }
        #expect(Set(sent.map(\.id)) == Set([one.id] + many.map(\.id)))
        #expect(sent.allSatisfy { $0.extraHeaders["x-traced"] == .bool(true) })
        for id in [one.id] + many.map(\.id) { #expect(recorder.calls(id) == ["beforePublish", "afterPublish"]) }
    }
}
