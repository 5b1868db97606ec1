public import ArgumentParser
import Celeriac
import Foundation

/// `qmon inspect <what>`: Celery's `inspect` queries, replies printed as one JSON object
/// (node name → reply); exit 3 when no worker replied.
public struct InspectCommand: AsyncParsableCommand {
    /// The queries `inspect` accepts, as Celery names them.
    public static let methods = [
        "ping", "active", "reserved", "scheduled", "revoked", "registered", "stats", "active_queues", "clock", "conf",
        "query_task",
    ]

    public static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Ask workers: \(methods.joined(separator: ", ")). Prints {node: reply} as JSON."
    )

    @OptionGroup public var connection: ConnectionOptions

    @Argument(help: ArgumentHelp("What to ask.", valueName: "query"))
    public var method: String

    @Argument(help: ArgumentHelp("Task ids, for query_task.", valueName: "task-id"))
    public var taskIDs: [String] = []

    @Option(name: [.short, .long], help: ArgumentHelp("Comma-separated node names to ask (default: all).", valueName: "nodes"))
    public var destination: String?

    @Option(name: [.short, .long], help: ArgumentHelp("Seconds to wait for replies.", valueName: "seconds"))
    public var timeout: Double = 1

    public init() {}

    public func validate() throws {
        guard Self.methods.contains(method) else {
            throw ValidationError("unknown query '\(method)'; one of: \(Self.methods.joined(separator: ", "))")
        }
        if method == "query_task", taskIDs.isEmpty { throw ValidationError("query_task needs at least one task id") }
        if method != "query_task", !taskIDs.isEmpty { throw ValidationError("only query_task takes task ids") }
        if timeout <= 0 { throw ValidationError("--timeout must be positive") }
    }

    public func run() async throws {
        var config: CeleriacConfig?
        let control: ControlClient
        do {
            config = try connection.resolve()
            var options = RedisOptions()
            options.connectTimeout = .seconds(3)
            control = try await ControlClient.connect(
                url: try RedisURL(parsing: config!.brokerURL), options: options, logger: QMonConsole.logger())
        } catch {
            throw QMonConsole.fail(error, config: config)
        }
        let nodes = destination.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        let replies: [String: JSONValue]
        do {
            let arguments: JSONObject? = method == "query_task" ? ["ids": .array(taskIDs.map(JSONValue.string))] : nil
            let wait = Duration.seconds(clamping: timeout)
            replies = method == "ping"
                ? try await control.ping(destination: nodes, timeout: wait)
                : try await control.inspect(method, arguments: arguments, destination: nodes, timeout: wait)
        } catch {
            await control.close()
            throw QMonConsole.fail(error, config: config)
        }
        await control.close()
        var object = JSONObject()
        for (node, reply) in replies.sorted(by: { $0.key < $1.key }) { object.append(node, reply) }
        QMonConsole.out(JSONValue.object(object).jsonString)
        if replies.isEmpty {
            QMonConsole.error(ControlReplySummary.noReply)
            throw QMonConsole.nothingMatched
        }
    }
}
