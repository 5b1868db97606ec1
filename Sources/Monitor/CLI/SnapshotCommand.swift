public import ArgumentParser
import Celeriac
import Foundation

/// `qmon snapshot`: listen for a few seconds, then print the model.
public struct SnapshotCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Listen for a few seconds, then print workers, task types, failures, queues and the newest tasks."
    )

    @OptionGroup public var connection: ConnectionOptions

    /// The model's limits, as the dashboard's.
    @OptionGroup public var limits: ModelOptions

    @Flag(name: .long, help: "Print one JSON document (see ClusterSnapshot) instead of text.")
    public var json = false

    @Option(name: .long, help: ArgumentHelp(
            "Seconds to listen before printing; events published before the window closes are all included.",
            valueName: "seconds"))
    public var listen: Double = 3

    @Option(name: .long, help: ArgumentHelp("Newest tasks to include.", valueName: "n"))
    public var tasks: Int = 50

    @Option(name: .long, help: ArgumentHelp("Read up to N stored results first, so recent outcomes show.", valueName: "n"))
    public var backfill: Int = 0

    @Flag(name: .long, help: "Ask workers to send task events (enable_events), as -E would.")
    public var enableEvents = false

    public init() {}

    public func validate() throws {
        if listen < 0 { throw ValidationError("--listen must not be negative") }
        if tasks < 0 { throw ValidationError("--tasks must not be negative") }
        if backfill < 0 { throw ValidationError("--backfill must not be negative") }
    }

    public func run() async throws {
        var config: CeleriacConfig?
        let state: ClusterState
        do {
            config = try connection.resolve()
            state = try await ClusterListener.listen(
                config: config!, seconds: listen, enableEvents: enableEvents, backfill: backfill,
                configuration: limits.configuration(localUTCOffset: CeleryEvent.localUTCOffset()),
                logger: QMonConsole.logger())
        } catch {
            throw QMonConsole.fail(error, config: config)
        }
        let now = Date().timeIntervalSince1970
        if json {
            QMonConsole.out(ClusterSnapshot.json(state, now: now, taskLimit: tasks).jsonString)
            return
        }
        let s = state.summary(now: now)
        QMonConsole.out(
            "workers \(s.workersOnline)/\(s.workersTotal) online, \(s.tasksHeld) tasks, \(s.totalEvents) events, "
                + String(format: "%.1f tasks/s over 1m", s.tasksPerSecondLastMinute))
        for w in state.workersByName {
            QMonConsole.out("worker \(w.hostname) \(w.isOnline(now: now) ? "online" : "offline")")
        }
        for q in state.queues { QMonConsole.out("queue \(q.name) \(q.total)") }
        for t in state.taskTypesByName {
            QMonConsole.out("tasks \(t.name) total=\(t.total) succeeded=\(t.succeeded.total) failed=\(t.failed.total)")
        }
        for t in state.tasks.newest(tasks) {
            QMonConsole.out("task \(t.uuid) \(t.name ?? "?") \(t.state.rawValue)")
        }
    }
}
