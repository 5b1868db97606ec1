public import ArgumentParser
public import Celeriac
public import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// `qworker`'s command line: Celery's worker flags where they make sense.
///
/// An application builds its own worker binary by handing its registry to ``run(tasks:arguments:)``:
/// ```swift
/// @main enum MyWorker {
///     static func main() async {
///         var tasks = TaskRegistry()
///         tasks.register("shop.total", parameters: ["prices"]) { (prices: [Double]) in prices.reduce(0, +) }
///         await WorkerCommand.run(tasks: tasks)
///     }
/// }
/// ```
public struct WorkerCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "qworker",
        abstract: "Run a Celery-compatible worker over Redis.",
        discussion: """
            Consumes Celery protocol v2 messages from Redis lists, runs the registered tasks and stores \
            their results where Python Celery clients read them. Settings resolve as: flag, then \
            environment variable (CELERY_BROKER_URL, CELERY_RESULT_BACKEND, ...), then config file \
            (celeriac.yaml, or CELERIAC_CONFIG / --config), then Celery's defaults.
            Messages that cannot be decoded are moved to the Redis list 'celeriac.dead_letter' with the reason.
            """
    )

    @Option(name: [.short, .long], help: ArgumentHelp("Broker URL: redis://[[user]:password@]host[:port][/db] or unix:///path/to/socket?db=N.", valueName: "url"))
    public var broker: String?

    @Option(name: .long, help: ArgumentHelp("Result backend URL (same forms as --broker), or 'disabled'. Defaults to the broker.", valueName: "url"))
    public var resultBackend: String?

    @Option(name: .long, help: ArgumentHelp("YAML config file with Celery setting names (default: ./celeriac.yaml if present).", valueName: "path"))
    public var config: String?

    @Option(name: [.customShort("Q"), .long], help: ArgumentHelp("Comma-separated queues to consume (default: task_default_queue, 'celery').", valueName: "queues"))
    public var queues: String?

    @Option(name: [.short, .long], help: ArgumentHelp("Tasks run at once (default: worker_concurrency, else the number of CPUs with --pool process and \(WorkerSettings.defaultAsyncConcurrency) with the async pool).", valueName: "n"))
    public var concurrency: Int?

    @Option(name: [.customShort("P"), .long], help: ArgumentHelp(
        "Where tasks run: 'async' (Swift tasks inside the worker, for tasks that await I/O) or 'process' (alias 'prefork': child processes of this binary, so a crash fails only its task and a hard time limit or revoke --terminate stops any body). Default: worker_pool, else async.",
        valueName: "pool"))
    public var pool: String?

    @Option(name: .long, help: ArgumentHelp("With --pool process: replace a pool process after it ran this many tasks (default: worker_max_tasks_per_child, else never).", valueName: "n"))
    public var maxTasksPerChild: Int?

    @Option(name: .long, help: ArgumentHelp("Messages held per unit of concurrency (default: worker_prefetch_multiplier, 4).", valueName: "n"))
    public var prefetchMultiplier: Int?

    @Option(name: .long, help: ArgumentHelp("The most messages held while tasks wait for their ETA/countdown; past it the rest stay in Redis until some are due (default: worker_eta_task_limit, else no limit; 0 is no limit).", valueName: "n"))
    public var etaTaskLimit: Int?

    @Option(name: .long, help: ArgumentHelp("Seconds this worker may go without refreshing its liveness key in Redis before peers put back the messages it holds; after such a lapse it checks it still owns each held message before running or acking it (default: broker_transport_options' visibility_timeout, else \(Int(LivenessWindow.defaultTimeout.components.seconds)); at least 1).", valueName: "seconds"))
    public var visibilityTimeout: Double?

    @Option(name: [.customShort("n"), .long], help: ArgumentHelp("Node name; %h is the host name, %n its first label, %d the domain (default: celery@%h).", valueName: "name"))
    public var hostname: String?

    @Option(name: [.short, .long], help: ArgumentHelp("DEBUG, INFO, WARNING, ERROR or CRITICAL.", valueName: "level"))
    public var loglevel: String = "INFO"

    @Flag(name: [.customShort("E"), .customLong("task-events")], help: "Send task events (worker_send_task_events); monitors such as qmon, Flower and 'celery events' show them. Worker heartbeats are always sent.")
    public var taskEvents: Bool = false

    @Option(name: [.customShort("S"), .long], help: ArgumentHelp("File where revoked task ids survive a restart (Celery's --statedb).", valueName: "path"))
    public var statedb: String?

    @Option(name: .long, help: ArgumentHelp("Hard time limit in seconds for tasks without one: the task is recorded as TimeLimitExceeded.", valueName: "seconds"))
    public var timeLimit: Double?

    @Option(name: .long, help: ArgumentHelp("Soft time limit in seconds: the task is cancelled and may clean up; if it does not, it fails with SoftTimeLimitExceeded.", valueName: "seconds"))
    public var softTimeLimit: Double?

    @Flag(name: .customLong("acks-late"), help: "Ack every task after it ran (task_acks_late): a worker killed mid-task leaves it to be run again.")
    public var acksLate: Bool = false

    @Flag(name: .customLong("without-mingle"), help: "Don't ask other workers for their revoked ids at start-up.")
    public var withoutMingle: Bool = false

    public init() {}

    public func validate() throws {
        if let concurrency, concurrency < 1 { throw ValidationError("--concurrency must be at least 1") }
        if let t = timeLimit, !(t > 0) { throw ValidationError("--time-limit must be a positive number of seconds") }
        if let t = softTimeLimit, !(t > 0) { throw ValidationError("--soft-time-limit must be a positive number of seconds") }
        if let pool, WorkerPoolKind(name: pool) == nil { throw ValidationError("--pool must be async or process (prefork)") }
        if let maxTasksPerChild, maxTasksPerChild < 1 { throw ValidationError("--max-tasks-per-child must be at least 1") }
        if let prefetchMultiplier, prefetchMultiplier < 1 { throw ValidationError("--prefetch-multiplier must be at least 1") }
        if let etaTaskLimit, etaTaskLimit < 0 { throw ValidationError("--eta-task-limit must be 0 (no limit) or more") }
        if let t = visibilityTimeout, !(t >= 1 && t.isFinite) { throw ValidationError("--visibility-timeout must be a number of seconds ≥ 1") }
        if CeleryLogHandler.level(named: loglevel) == nil { throw ValidationError("--loglevel must be DEBUG, INFO, WARNING, ERROR or CRITICAL") }
        if let queues, queueList(queues).isEmpty { throw ValidationError("-Q needs at least one queue name") }
    }

    private func queueList(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// Resolves flags over the loaded config into worker settings.
    /// - Throws: ``ConfigError`` or ``RedisError`` (an unparsable URL), each one line for the user.
    public func settings(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> WorkerSettings {
        try resolved(environment: environment).settings
    }

    /// The configuration as loaded (for what it warns about) and the settings it and the flags give.
    func resolved(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> (config: CeleriacConfig, settings: WorkerSettings) {
        var config = try CeleriacConfig.load(file: config, environment: environment)
        if let broker { config.brokerURL = broker }
        if let resultBackend {
            config.resultsDisabled = resultBackend.lowercased() == "disabled"
            config.resultBackend = config.resultsDisabled ? nil : resultBackend
        }
        let brokerURL = try RedisURL(parsing: config.brokerURL)
        let backendURL = try config.effectiveResultBackend.map { try RedisURL(parsing: $0) }
        var settings = WorkerSettings(brokerURL: brokerURL, resultBackendURL: backendURL)
        settings.queues = queues.map(queueList) ?? [config.taskDefaultQueue]
        settings.prefetchMultiplier = prefetchMultiplier ?? config.workerPrefetchMultiplier
        settings.nodeName = WorkerSettings.expandNodeName(hostname ?? "celery@%h")
        settings.resultExpires = config.resultExpires
        settings.taskDefaultQueue = config.taskDefaultQueue
        settings.inheritParentPriority = config.taskInheritParentPriority
        settings.chordJoin = ChordJoin.Settings(expires: config.resultExpires, resultExpires: config.resultExpires,
                                                joinTimeout: config.resultChordJoinTimeout)
        settings.sendTaskEvents = taskEvents || config.workerSendTaskEvents
        settings.stateDB = statedb
        settings.mingle = !withoutMingle
        settings.acksLate = acksLate || config.taskAcksLate
        settings.timeLimit = TimeLimit(hard: timeLimit, soft: softTimeLimit)
        if let name = pool ?? config.workerPool {
            guard let kind = WorkerPoolKind(name: name) else { throw ConfigError("worker_pool must be async or process (prefork), not '\(name)'") }
            settings.pool = kind
        }
        // Celery's default (one per CPU) fits processes; async tasks mostly wait on I/O and cost
        // nothing while they do, and a window of two keeps a fast worker waiting on round trips.
        settings.concurrency = concurrency ?? config.workerConcurrency
            ?? (settings.pool == .process ? ProcessInfo.processInfo.activeProcessorCount : WorkerSettings.defaultAsyncConcurrency)
        settings.maxTasksPerChild = maxTasksPerChild ?? config.workerMaxTasksPerChild
        settings.rejectOnWorkerLost = config.taskRejectOnWorkerLost
        if let etaTaskLimit {
            settings.etaTaskLimit = etaTaskLimit == 0 ? nil : etaTaskLimit
        } else {
            settings.etaTaskLimit = config.workerEtaTaskLimit
        }
        if let seconds = visibilityTimeout ?? config.visibilityTimeout { settings.liveness = LivenessWindow(seconds: seconds) }
        return (config, settings)
    }

    /// Parses `arguments` (the process's by default), runs a worker with `tasks` until SIGTERM or
    /// Ctrl-C, and exits: 0 after a clean shutdown, 1 when it could not start (one line on stderr).
    ///
    /// In a pool child of `--pool process` (the same binary, started by the worker) it serves the
    /// worker's jobs instead, with the same `tasks`.
    /// `middleware` hooks into each task's life and the worker's (``TaskMiddleware``).
    public static func run(tasks: TaskRegistry, middleware: [any TaskMiddleware] = [], arguments: [String]? = nil) async -> Never {
        await runPoolChildIfRequested(tasks: tasks)
        let command: WorkerCommand
        do {
            command = try parse(arguments)
        } catch {
            exitMasked(withError: error)
        }
        let level = CeleryLogHandler.level(named: command.loglevel) ?? .info
        LoggingSystem.bootstrap { label in CeleryLogHandler(label: label, level: level) }
        let logger = Logger(label: "qworker")
        do {
            let (config, settings) = try command.resolved()
            if let warning = config.ignoredSettingsWarning { logger.warning("\(warning)") }
            let worker = Worker(settings: settings, tasks: tasks, logger: logger, middleware: middleware)
            let group = ServiceGroup(configuration: .init(
                services: [.init(service: worker)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            ))
            // First Ctrl-C or SIGTERM: warm shutdown (the group above). A second Ctrl-C: cold
            // shutdown, which stops running tasks and puts their messages back on their queues.
            let interrupts = await UnixSignalsSequence(trapping: .sigint)
            let watcher = Task {
                var seen = 0
                for await _ in interrupts {
                    seen += 1
                    // Celery says the same on the first Ctrl-C. The line is also the sign that
                    // this Ctrl-C was counted: tests wait for it before sending the second, so
                    // the two cannot arrive as one.
                    if seen == 1 { logger.info("hitting Ctrl+C again will initiate cold shutdown, terminating all running tasks") }
                    if seen == 2 { worker.coldShutdown() }
                }
            }
            defer { watcher.cancel() }
            try await group.run()
            Foundation.exit(0)
        } catch {
            // The log handler masks credentials too; this line may quote a config file's value.
            logger.critical("qworker: \(CredentialRedactor.redact("\(error)"))")
            Foundation.exit(1)
        }
    }

    /// ArgumentParser's `exit(withError:)`, with credentials masked in an error's message: it
    /// quotes the argument it could not place (`Unexpected argument 'redis://:secret@h'`).
    /// Help and version text are printed as they are.
    static func exitMasked(withError error: any Error) -> Never {
        let code = exitCode(for: error)
        guard code != .success else { exit(withError: error) }
        let message = fullMessage(for: error)
        if !message.isEmpty { FileHandle.standardError.write(Data((CredentialRedactor.redact(message) + "\n").utf8)) }
        Foundation.exit(code.rawValue)
    }

    /// When this process is a pool child of a `--pool process` worker, serves the worker's jobs
    /// with `tasks` and exits; otherwise returns at once. ``run(tasks:arguments:)`` calls it
    /// first; a program that runs a ``Worker`` without it must call it at the top of `main`.
    public static func runPoolChildIfRequested(tasks: TaskRegistry) async {
        let environment = ProcessInfo.processInfo.environment
        guard let number = environment[PoolChildCommand.environmentKey] else { return }
        await PoolChildProcess.serve(tasks: tasks, number: number, environment: environment)
    }
}
