public import ArgumentParser
import Celeriac
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `qmon events`: every event on the cluster as one JSON line (its fields as sent), until
/// interrupted (exit 0) or `--count` events.
public struct EventsCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Print every event as one JSON line (its fields as sent) until Ctrl-C or --count events."
    )

    @OptionGroup public var connection: ConnectionOptions

    @Option(name: .long, help: ArgumentHelp("Stop after this many events.", valueName: "n"))
    public var count: Int?

    public init() {}

    public func validate() throws {
        if let count, count < 1 { throw ValidationError("--count must be at least 1") }
    }

    public func run() async throws {
        // Each line is written with its own write(2), so nothing is buffered: ending the process
        // from the handler loses nothing, and Ctrl-C is the normal way to stop.
        for sig in [SIGINT, SIGTERM] { signal(sig) { _ in _exit(0) } }
        var config: CeleriacConfig?
        let receiver: EventReceiver
        do {
            config = try connection.resolve()
            var options = RedisOptions()
            options.connectTimeout = .seconds(3)
            receiver = try await EventReceiver.connect(
                url: try RedisURL(parsing: config!.brokerURL), options: options, logger: QMonConsole.logger())
        } catch {
            throw QMonConsole.fail(error, config: config)
        }
        var printed = 0
        for await event in receiver.events {
            QMonConsole.out(JSONValue.object(event.fields).jsonString)
            printed += 1
            if let count, printed >= count { break }
        }
        receiver.close()
    }
}
