public import ArgumentParser

/// The `--action-log` flag of the commands that change something (revoke, retry, purge).
public struct ActionLogOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("File that records every action (default: $XDG_STATE_HOME/celeriac/qmon-actions.log or ~/.local/state/celeriac/qmon-actions.log).", valueName: "path"))
    public var actionLog: String?

    public init() {}

    /// The log to write: the flag's path, else ``ActionLog/defaultPath(environment:)``.
    public var log: ActionLog { ActionLog(path: actionLog ?? ActionLog.defaultPath()) }
}
