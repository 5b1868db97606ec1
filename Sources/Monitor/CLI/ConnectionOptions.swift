public import ArgumentParser

/// Where `qmon` finds the cluster: resolved like `qworker`'s settings (flag, then environment,
/// then config file, then Celery's defaults).
public struct ConnectionOptions: ParsableArguments {
    @Option(name: [.short, .long], help: ArgumentHelp("Broker URL: redis://[[user]:password@]host[:port][/db] or unix:///path?db=N.", valueName: "url"))
    public var broker: String?

    @Option(name: .long, help: ArgumentHelp("Result backend URL, or 'disabled' (default: the broker).", valueName: "url"))
    public var resultBackend: String?

    @Option(name: .long, help: ArgumentHelp("YAML config file with Celery setting names (default: ./celeriac.yaml if present).", valueName: "path"))
    public var config: String?

    public init() {}
}
