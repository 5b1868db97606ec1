import ArgumentParser
import Celeriac

/// Runs one ``MonitorAction`` for a headless command: connect, perform (which writes the
/// action log), close, and map the outcome to qmon's exit codes.
enum ActionRunner {
    /// - Returns: The outcome, when it succeeded.
    /// - Throws: `ExitCode` 1 or 2 when the settings or Redis fail (reported on stderr), 3 when
    ///   the action failed (its message on stderr).
    static func perform(
        _ action: MonitorAction, connection: ConnectionOptions, log: ActionLogOptions
    ) async throws -> ActionOutcome {
        var config: CeleriacConfig?
        let performer: RedisActionPerformer
        do {
            config = try connection.resolve()
            var options = RedisOptions()
            options.connectTimeout = .seconds(3)
            performer = try await RedisActionPerformer.connect(
                config: config!, options: options, log: log.log, logger: QMonConsole.logger())
        } catch {
            throw QMonConsole.fail(error, config: config)
        }
        let outcome = await performer.perform(action)
        await performer.close()
        guard outcome.succeeded else {
            QMonConsole.error("\(action.summary): \(outcome.message)")
            throw QMonConsole.nothingMatched
        }
        return outcome
    }
}
