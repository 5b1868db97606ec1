import ArgumentParser
import Celeriac
import CeleriacDemoTasks
import Logging

/// `qload`: sends a varied load of demo tasks from Swift and prints what happened to each.
@main
struct QLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "qload",
        abstract: "Send a mix of demo tasks (successes, failures, slow, delayed, prioritised, a chain and a chord) and print their outcomes."
    )

    @Option(name: [.short, .long], help: ArgumentHelp("Broker URL (default: CELERY_BROKER_URL, config file, then redis://localhost:6379/0).", valueName: "url"))
    var broker: String?

    @Option(name: .long, help: "Rounds of the mix to send.")
    var rounds: Int = 5

    func run() async throws {
        var config = try CeleriacConfig.load()
        if let broker { config.brokerURL = broker }
        var logger = Logger(label: "qload")
        logger.logLevel = .warning
        let client = try await CeleriacClient.connect(config: config, logger: logger)
        defer { client.close() }
        for outcome in try await DemoLoad.run(client: client, rounds: rounds) {
            print("swift client  \(outcome.state.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0))  \(outcome.call) -> \(outcome.detail)")
        }
    }
}
