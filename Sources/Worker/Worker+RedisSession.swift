import Celeriac
import Logging

/// Connecting a worker to the Redis its settings name: the broker driver's three connections,
/// the event publisher's, and the control server's.
extension Worker {
    /// What one run of the worker is connected to, closed together when it stops.
    struct Session {
        let live: Live
        /// Remote control; `nil` on a driver other than Redis.
        var control: ControlServer?
        var publisher: EventPublisher?
        var connections: [RedisClient] = []

        func close() {
            control?.close()
            publisher?.close()
            for connection in connections { connection.close() }
        }
    }

    /// Connects to the broker (waiting for it at start-up, ``connectAtStartup()``), the result
    /// backend and the event stream, and starts the control server.
    /// - Returns: `nil` when the worker was told to stop before Redis answered.
    func connectToRedis() async throws -> Session? {
        guard let consumer = try await connectAtStartup() else { return nil }
        let broker = try await RedisClient.connect(url: settings.brokerURL, options: options("broker"), logger: logger)
        var connections = [consumer, broker]
        var backend: RedisResultBackend?
        if let url = settings.resultBackendURL {
            let client = url == settings.brokerURL ? broker : try await RedisClient.connect(url: url, options: options("backend"), logger: logger)
            if client !== broker { connections.append(client) }
            backend = RedisResultBackend(client: client, expires: settings.resultExpires)
        }
        let sender = WorkerEvents.sender(hostname: settings.nodeName)
        let publisher = try await EventPublisher.connect(url: settings.brokerURL, sender: sender, options: options("events"), logger: logger)
        let driver = RedisBrokerDriver(holder: holder, consumer: consumer, broker: broker, backend: backend, logger: logger)
        let live = Live(driver: driver, events: WorkerEvents(publisher: publisher, sender: sender, taskEvents: settings.sendTaskEvents))
        // Set before the control server starts: its commands publish and store through it.
        self.live.withLock { $0 = live }
        let control = try await ControlServer.start(worker: self, broker: broker, outageLog: outageLog)
        return Session(live: live, control: control, publisher: publisher, connections: connections)
    }

    /// Options of one of the worker's connections, named for its log lines and sharing one
    /// outage log, so an outage is one warning, not one per connection.
    private func options(_ name: String) -> RedisOptions {
        var o = RedisOptions()
        o.name = name
        o.outageLog = outageLog
        return o
    }

    /// Attempts at the first broker connection before the worker gives up, as Celery's
    /// `broker_connection_max_retries` (100).
    static let startupConnectAttempts = 100

    /// The first connection, retried as Celery's `broker_connection_retry_on_startup` does: a
    /// broker that is not up yet (refused, timing out, still loading its data) is tried again
    /// with a growing delay and one log line per attempt, so a worker started before its Redis
    /// (a compose file, a reboot) simply waits for it. A wrong password or URL fails at once.
    /// - Returns: `nil` when the worker was told to stop before Redis answered.
    private func connectAtStartup() async throws -> RedisClient? {
        var backoff = RedisBackoff(.seconds(2)...(.seconds(30)))
        var attempt = 0
        while true {
            let failure: RedisError
            do {
                return try await RedisClient.connect(url: settings.brokerURL, options: options("consumer"), logger: logger)
            } catch {
                failure = error
            }
            attempt += 1
            if stopping.load(ordering: .relaxed) { return nil }
            guard failure.isConnectionProblem || failure.isLoading, attempt < Self.startupConnectAttempts else { throw failure }
            let delay = backoff.next()
            logger.error("consumer: Cannot connect to \(settings.brokerURL): \(failure.message). Trying again in \(delay.components.seconds).00 seconds... (\(attempt)/\(Self.startupConnectAttempts))")
            guard await shutdown.sleep(for: delay) else { return nil }
        }
    }
}
