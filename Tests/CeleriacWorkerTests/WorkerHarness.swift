import Celeriac
import CeleriacDemoTasks
import CeleriacTestSupport
import CeleriacWorker
import Foundation
import Logging

/// A private redis-server, an in-process worker with the demo tasks, and a client, for one test.
final class WorkerHarness: Sendable {
    let server: RedisServer
    let worker: Worker
    let client: CeleriacClient
    let redis: RedisClient
    private let running: Task<Void, any Error>

    init(queues: [String] = ["celery"], concurrency: Int = 4, prefetchMultiplier: Int = 4,
         tasks: TaskRegistry = DemoTasks.registry, server: RedisServer? = nil, nodeName: String? = nil,
         middleware: [any TaskMiddleware] = [], clientMiddleware: [any TaskMiddleware] = [],
         configure: (inout WorkerSettings) -> Void = { _ in }) async throws {
        let server = try server ?? RedisServer.start()
        self.server = server
        var logger = Logger(label: "test-worker")
        // HARNESS_DEBUG=1 shows the worker's own log lines when a test needs explaining.
        logger.logLevel = ProcessInfo.processInfo.environment["HARNESS_DEBUG"] != nil ? .debug : .warning
        var settings = WorkerSettings(brokerURL: server.url, resultBackendURL: server.url, queues: queues,
                                      concurrency: concurrency, prefetchMultiplier: prefetchMultiplier, nodeName: nodeName ?? "test@\(UUID().uuidString.prefix(6))")
        settings.pollTimeout = 1
        settings.mingle = false
        configure(&settings)
        let worker = Worker(settings: settings, tasks: tasks, logger: logger, middleware: middleware)
        self.worker = worker
        running = Task { try await worker.run() }
        // Returns as soon as the worker is ready; the margin is for the integration phase, where
        // some thirty in-process workers start at once on two cores (10 s was once too little).
        try await waitUntil(timeout: .seconds(40)) { worker.isReady || worker.hasStopped }
        var config = CeleriacConfig()
        config.brokerURL = server.urlString
        config.taskDefaultQueue = queues[0]
        client = try await CeleriacClient.connect(config: config, logger: logger, middleware: clientMiddleware)
        redis = try await RedisClient.connect(url: server.url, logger: logger)
    }

    /// Warm-shuts the worker down and waits until `run()` returns.
    func stopWorker() async throws {
        worker.beginShutdown()
        try await running.value
    }

    /// A pidbox control client on this Redis.
    func control() async throws -> ControlClient {
        try await ControlClient.connect(url: server.url, logger: Logger(label: "test-control"))
    }

    /// Waits until the worker's `run()` returned by itself (e.g. after the `shutdown` command).
    func waitForExit(timeout: Duration) async throws {
        try await waitUntil(timeout: timeout) { self.worker.hasStopped }
    }

    func close() async {
        worker.beginShutdown()
        _ = try? await running.value
        client.close()
        redis.close()
        server.stop()
    }

    func llen(_ key: String) async throws -> Int {
        try await redis.send(RedisCommand("LLEN", key)).int ?? -1
    }
}
