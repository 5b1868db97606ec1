public import ArgumentParser

/// `qmon revoke ID...`: revoke tasks on every worker; with `--terminate`, also end them
/// where they run. Prints the workers' replies; exit 3 when no worker replied.
public struct RevokeCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "revoke",
        abstract: "Revoke tasks (and with --terminate, kill them where they run)."
    )

    @OptionGroup public var connection: ConnectionOptions
    @OptionGroup public var actionLog: ActionLogOptions

    @Argument(help: ArgumentHelp("Task ids.", valueName: "task-id"))
    public var taskIDs: [String]

    @Flag(name: .long, help: "Also end the tasks if they are running.")
    public var terminate = false

    @Option(name: .long, help: ArgumentHelp("Signal for --terminate (a name, as Celery expects).", valueName: "name"))
    public var signal = "SIGTERM"

    public init() {}

    public func validate() throws {
        if taskIDs.isEmpty { throw ValidationError("give at least one task id") }
        if !signal.uppercased().hasPrefix("SIG") { throw ValidationError("--signal takes a name such as SIGTERM or SIGKILL") }
    }

    public func run() async throws {
        let outcome = try await ActionRunner.perform(
            .revoke(taskIDs: taskIDs, terminate: terminate, signal: signal.uppercased()), connection: connection,
            log: actionLog)
        QMonConsole.out(outcome.message)
    }
}
