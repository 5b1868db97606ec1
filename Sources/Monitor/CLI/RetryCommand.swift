public import ArgumentParser

/// `qmon retry ID`: re-send a failed task as a new task and print the new id; exit 3 when the
/// task cannot be re-sent (its message was not kept and the result has no arguments).
public struct RetryCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Re-send a failed task as a new task (linked to the old one); prints the new id."
    )

    @OptionGroup public var connection: ConnectionOptions
    @OptionGroup public var actionLog: ActionLogOptions

    @Argument(help: ArgumentHelp("The failed task's id.", valueName: "task-id"))
    public var taskID: String

    public init() {}

    public func run() async throws {
        let outcome = try await ActionRunner.perform(.retry(taskID: taskID), connection: connection, log: actionLog)
        QMonConsole.out(outcome.newTaskID ?? "")
    }
}
