public import ArgumentParser
public import Celeriac
public import Foundation
import Synchronization

/// `qmon dashboard` (the default subcommand): the live terminal dashboard.
///
/// Order of work, so that every failure leaves a usable terminal and one clear line:
/// 1. resolve the configuration (flag, environment, config file, defaults);
/// 2. check the terminal (``CursesScreen/preflight(environment:)``): exit 4 without a TTY, with
///    an unusable `TERM` or a window under 80×24;
/// 3. make the feed and performer through ``makeDependencies`` (exit 2 when that throws, e.g.
///    Redis unreachable; exit 70 when the executable did not set it);
/// 4. run ``MonitorLoop`` on its own thread until `q` (exit 0) or SIGINT/SIGTERM/SIGHUP
///    (exit 128 + signal), then restore the terminal and close the dependencies.
public struct DashboardCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract: "Open the live dashboard (default).",
        discussion: """
            A live view of workers, tasks, failures and queues, built from Celery events (workers need \
            task events: -E, or --enable-events here). Every action asks for confirmation; --read-only \
            removes them all.

            Keys:
            \(KeyMap.helpText)

            Workflows: W shows the workflow of a task (its chain, group or chord) as a live tree, and a \
            task's detail links its parent, root, group members, chord body and children. Task events \
            give parents and roots; group ids and children come from the stored results \
            (celery-task-meta-<id>), which qmon reads once a second only for the workflow on screen.

            Memory: the held tasks take at most --max-task-memory MiB (128 by default, records and their \
            texts by qmon's own count) and --max-tasks records; each task's args, kwargs, result, exception \
            and traceback is cut at --max-field-bytes (16384); at most --max-workers workers (5000) are \
            kept; events waiting to be shown take at most 64 MiB, and beyond that the oldest are dropped \
            and counted in the header.

            Exit status: 0 after q; 2 when the configuration or Redis fails; 4 when the terminal is \
            unusable (no TTY, unknown or dumb TERM, smaller than 80x24); 128+N after signal N.
            """
    )

    /// Where the cluster is.
    @OptionGroup public var connection: ConnectionOptions

    /// The model's limits (tasks, task memory, field size, workers).
    @OptionGroup public var limits: ModelOptions

    /// Refuse every action.
    @Flag(name: .long, help: "Show only: no revoke, retry, rate limit, pool, shutdown or purge.")
    public var readOnly: Bool = false

    /// Ask workers to send task events at start (`enable_events`).
    @Flag(name: .long, help: "Ask every worker to start sending task events (like 'celery control enable_events').")
    public var enableEvents: Bool = false

    /// Append every action and its outcome to this file.
    @Option(name: .long, help: ArgumentHelp("Append every action and its outcome to this file.", valueName: "path"))
    public var actionLog: String?

    public init() {}

    /// Replaces the live feed and action performer (``DashboardDependencies/live``), e.g. with
    /// scripted ones; `nil` (the default) means live.
    public static var makeDependencies: DashboardDependencies.Factory? {
        get { DashboardDependencies.factory.withLock { $0 } }
        set { DashboardDependencies.factory.withLock { $0 = newValue } }
    }

    /// The configuration: loaded, then overridden by `--broker`/`--result-backend`.
    ///
    /// - Throws: ``Celeriac/ConfigError``.
    public func resolvedConfig(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> CeleriacConfig {
        var config = try CeleriacConfig.load(file: connection.config, environment: environment)
        if let broker = connection.broker { config.brokerURL = broker }
        if let backend = connection.resultBackend {
            config.resultsDisabled = backend.lowercased() == "disabled"
            config.resultBackend = config.resultsDisabled ? nil : backend
        }
        return config
    }

    public func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let config: CeleriacConfig
        let label: String
        do {
            config = try resolvedConfig(environment: environment)
            label = try RedisURL(parsing: config.brokerURL).description
        } catch {
            Self.printError("qmon: \(error)")
            throw ExitCode(2)
        }
        do {
            try CursesScreen.preflight(environment: environment)
        } catch {
            Self.printError(error.message)
            throw ExitCode(TerminalError.exitCode)
        }
        let factory = Self.makeDependencies ?? DashboardDependencies.live
        let deps: DashboardDependencies
        do {
            deps = try await factory(self, config)
        } catch {
            Self.printError("qmon: \(error)")
            throw ExitCode(2)
        }

        let model = ClusterState(configuration: limits.configuration(localUTCOffset: CeleryEvent.localUTCOffset()))
        let view = ViewState(connectionLabel: label, readOnly: readOnly)
        TerminationSignals.install()
        let result = await Self.runOnOwnThread(model: model, view: view, deps: deps, environment: environment)
        // Closing talks to Redis; when Redis is gone that could wait for a reconnect forever, and
        // an operator who pressed q (or a SIGHUP) expects qmon to leave now.
        await Self.close(deps, within: .seconds(2))
        switch result {
        case .success(.quit): return
        case .success(.signal(let n)): throw ExitCode(128 + n)
        case .failure(let error):
            Self.printError(error.message)
            throw ExitCode(TerminalError.exitCode)
        }
    }

    /// Runs the loop on a dedicated thread: it blocks in `getch` (100 ms at a time), which must
    /// not hold one of the few cooperative threads the feed and actions run on.
    private static func runOnOwnThread(
        model: ClusterState, view: ViewState, deps: DashboardDependencies, environment: [String: String]
    ) async -> Result<MonitorLoop.Exit, TerminalError> {
        await withCheckedContinuation { continuation in
            let thread = Thread {
                let screen: CursesScreen
                do throws(TerminalError) {
                    screen = try CursesScreen(environment: environment)
                } catch {
                    continuation.resume(returning: .failure(error))
                    return
                }
                let loop = MonitorLoop(model: model, view: view, feed: deps.feed, performer: deps.performer, results: deps.results)
                let exit = loop.run(
                    on: screen, clock: { Date().timeIntervalSince1970 }, stopSignal: { TerminationSignals.pending })
                screen.end()
                continuation.resume(returning: .success(exit))
            }
            thread.name = "qmon-screen"
            thread.start()
        }
    }

    /// Writes `line` to stderr, credentials masked: it may quote a URL or a config line.
    private static func printError(_ line: String) {
        FileHandle.standardError.write(Data((CredentialRedactor.redact(line) + "\n").utf8))
    }

    /// Runs the dependencies' close, but stops waiting for it after `limit`.
    /// (Unstructured on purpose: a task group would wait for a hung close at its end.)
    private static func close(_ deps: DashboardDependencies, within limit: Duration) async {
        let resumed = Mutex(false)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let finish = { @Sendable in
                if resumed.withLock({ r in defer { r = true }; return !r }) { continuation.resume() }
            }
            Task { await deps.close(); finish() }
            Task { try? await Task.sleep(for: limit); finish() }
        }
    }
}
