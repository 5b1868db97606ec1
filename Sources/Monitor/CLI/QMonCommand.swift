public import ArgumentParser
import Celeriac
import Foundation

/// `qmon`: watch and steer the Celery workers (Celeriac and Python) on one Redis.
///
/// The dashboard is the default subcommand; the headless ones (``headlessSubcommands``) serve
/// scripts.
public struct QMonCommand: AsyncParsableCommand {
    /// Every subcommand that runs without a terminal UI.
    public static let headlessSubcommands: [any ParsableCommand.Type] = [
        SnapshotCommand.self, EventsCommand.self, InspectCommand.self, RevokeCommand.self, RetryCommand.self,
        PurgeCommand.self, StatusCommand.self,
    ]

    public static let configuration = CommandConfiguration(
        commandName: "qmon",
        abstract: "Watch and steer Celery workers (Celeriac and Python) on one Redis.",
        subcommands: [DashboardCommand.self] + headlessSubcommands,
        defaultSubcommand: DashboardCommand.self
    )

    public init() {}

    /// Parses the process's arguments, runs the subcommand and exits with qmon's codes
    /// (``QMonConsole``): unlike ArgumentParser's default (64), a usage error exits 1.
    public static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            // Help and version text go out as ArgumentParser prints them; an error's message is
            // masked (``Celeriac/CredentialRedactor``): it quotes the argument it could not
            // place (`Unexpected argument 'redis://:secret@h'`).
            guard code != .success else { exit(withError: error) }
            let message = fullMessage(for: error)
            if !message.isEmpty { FileHandle.standardError.write(Data((CredentialRedactor.redact(message) + "\n").utf8)) }
            Foundation.exit(code == .validationFailure ? QMonConsole.usageError.rawValue : code.rawValue)
        }
        Foundation.exit(0)
    }
}
