public import ArgumentParser

/// `qmon purge QUEUE --yes`: delete every message waiting in a queue (all four priority
/// lists, in one transaction). Refuses without `--yes`: there is no undo.
public struct PurgeCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "purge",
        abstract: "Delete every message waiting in a queue (needs --yes)."
    )

    @OptionGroup public var connection: ConnectionOptions
    @OptionGroup public var actionLog: ActionLogOptions

    @Argument(help: ArgumentHelp("The queue.", valueName: "queue"))
    public var queue: String

    @Flag(name: .long, help: "Really delete the messages.")
    public var yes = false

    public init() {}

    public func validate() throws {
        if queue.isEmpty { throw ValidationError("the queue name must not be empty") }
        if !yes { throw ValidationError("refusing to purge \(queue) without --yes (its messages cannot be recovered)") }
    }

    public func run() async throws {
        let outcome = try await ActionRunner.perform(.purge(queue: queue), connection: connection, log: actionLog)
        QMonConsole.out(outcome.message)
    }
}
