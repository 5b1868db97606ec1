import Celeriac
import Logging

extension DashboardDependencies {
    /// The real thing: the Redis feed (events, queue depths, worker stats) and an action
    /// performer sharing its control client. Nothing logs to the terminal while curses owns it;
    /// outages reach the operator as feed notices on the status line instead.
    public static let live: Factory = { command, config in
        let logger = Logger(label: "qmon", factory: { _ in SwiftLogNoOpLogHandler() })
        let feed = try await RedisMonitorFeed.connect(config: config, logger: logger, enableEvents: command.enableEvents)
        var backend: RedisResultBackend?
        if let url = config.effectiveResultBackend {
            let parsed = try RedisURL(parsing: url)
            let client = parsed == feed.redis.url ? feed.redis : try await RedisClient.connect(url: parsed, logger: logger)
            backend = RedisResultBackend(client: client, expires: config.resultExpires)
        }
        let performer = RedisActionPerformer(
            control: feed.control, broker: RedisBroker(client: feed.redis), backend: backend,
            log: ActionLog(path: command.actionLog ?? ActionLog.defaultPath()), logger: logger)
        let results = backend.map { RedisResultMetaReader(client: $0.client) }
        return DashboardDependencies(feed: feed, performer: performer, results: results) { [backend] in
            if let backend, backend.client !== feed.redis { backend.client.close() }
            await feed.close()
        }
    }
}
