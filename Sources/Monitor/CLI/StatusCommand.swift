public import ArgumentParser
import Celeriac
import Foundation

/// `qmon status`: one line per worker; exit 0 when at least one is online, 3 when none is.
public struct StatusCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "List workers (name, online/offline, active, processed); exit 3 if none is online."
    )

    @OptionGroup public var connection: ConnectionOptions

    @Option(name: .long, help: ArgumentHelp(
            "Seconds to listen for worker heartbeats; events published before the window closes are all included.",
            valueName: "seconds"))
    public var listen: Double = 2

    public init() {}

    public func validate() throws {
        if listen < 0 { throw ValidationError("--listen must not be negative") }
    }

    public func run() async throws {
        var config: CeleriacConfig?
        let state: ClusterState
        do {
            config = try connection.resolve()
            state = try await ClusterListener.listen(
                config: config!, seconds: listen, enableEvents: false, backfill: 0, logger: QMonConsole.logger())
        } catch {
            throw QMonConsole.fail(error, config: config)
        }
        let now = Date().timeIntervalSince1970
        var online = 0
        for w in state.workersByName {
            let isOnline = w.isOnline(now: now)
            if isOnline { online += 1 }
            QMonConsole.out(
                "\(w.hostname) \(isOnline ? "online" : "offline") active=\(w.active.map(String.init) ?? "?") processed=\(w.processed.map(String.init) ?? "?")")
        }
        if online == 0 {
            QMonConsole.error("no worker online")
            throw QMonConsole.nothingMatched
        }
    }
}
