public import ArgumentParser
import Celeriac
import Foundation
import Logging

/// `qbench`: Celeriac side by side with Python Celery 5.7 on one private Redis (issue #6).
public struct BenchCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "qbench",
        abstract: "Benchmark Celeriac against Python Celery 5.7 on a private redis-server.",
        discussion: """
            Starts its own redis-server on a free loopback port (never 6379), runs each measurement for the \
            Swift side and the Python side in turn, and prints one Markdown table (median [min–max] of the runs, \
            Swift vs Python, the issue's target) plus a JSON file. Run it through scripts/bench.sh, which builds \
            in release mode and provides the Python venv.
            """,
        subcommands: [Run.self, MonitorProbeCommand.self],
        defaultSubcommand: Run.self
    )

    public init() {}

    /// The benchmark itself.
    public struct Run: AsyncParsableCommand {
        public static let configuration = CommandConfiguration(commandName: "run", abstract: "Run the benchmark (the default).")

        @Flag(help: "Fewer and shorter runs (a few minutes): a smoke run, not figures to quote.")
        var quick = false

        @Option(help: ArgumentHelp("Where to write the JSON report.", valueName: "path"))
        var json: String = "bench/results/latest.json"

        @Option(help: ArgumentHelp("Comma-separated phases: \(BenchRunner.Phase.allCases.map(\.rawValue).joined(separator: ",")) (default: all).", valueName: "phases"))
        var only: String?

        @Option(help: ArgumentHelp("Repetitions of each measurement (at least 3 for reported figures).", valueName: "n"))
        var runs: Int?

        @Option(help: ArgumentHelp("Python with celery==5.7.0 (default: <root>/.venv/bin/python).", valueName: "path"))
        var python: String?

        @Option(help: ArgumentHelp("The checkout (default: the current directory).", valueName: "path"))
        var root: String?

        @Option(help: ArgumentHelp("Extra qworker flags for every Swift worker, space-separated.", valueName: "flags"))
        var swiftWorkerArgs: String = ""

        public init() {}

        public func validate() throws {
            if let runs, runs < 1 { throw ValidationError("--runs must be at least 1") }
            if let only {
                for name in only.split(separator: ",") where BenchRunner.Phase(rawValue: String(name)) == nil {
                    throw ValidationError("unknown phase '\(name)'")
                }
            }
        }

        public func run() async throws {
            let rootURL = URL(fileURLWithPath: root ?? FileManager.default.currentDirectoryPath)
            let bin = BenchEnvironment.executableDirectory
            let environment = try BenchEnvironment(
                root: rootURL, qworker: bin.appendingPathComponent("qworker").path,
                python: python ?? rootURL.appendingPathComponent(".venv/bin/python").path,
                swiftWorkerArguments: swiftWorkerArgs.split(separator: " ").map(String.init))
            var plan = quick ? BenchPlan.quick : BenchPlan()
            if let runs { plan.runs = runs }
            let phases = only.map { Set($0.split(separator: ",").compactMap { BenchRunner.Phase(rawValue: String($0)) }) }
                ?? Set(BenchRunner.Phase.allCases)
            var logger = Logger(label: "qbench")
            logger.logLevel = .error
            let progress: @Sendable (String) -> Void = { line in
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }
            let started = Date()
            let redis = try await BenchRedis.start(logger: logger)
            defer { redis.close() }
            let version = try await redis.version()
            progress("qbench: private redis-server \(version) on 127.0.0.1:\(redis.port); logs in \(environment.logs.path)")
            let runner = BenchRunner(
                plan: plan, environment: environment, redis: redis, logger: logger,
                probe: bin.appendingPathComponent("qbench").path, progress: progress)
            let (rows, details) = try await runner.run(phases)
            let context = Machine.describe(
                date: started, seconds: Date().timeIntervalSince(started), redisVersion: version, quick: quick, runs: plan.runs)
            print(Machine.headline(context))
            print()
            print(ReportTable.markdown(rows), terminator: "")
            let document = ReportJSON.document(rows: rows, context: context, details: details)
            let url = URL(fileURLWithPath: json, relativeTo: rootURL)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(document.serialized(style: .compact)).write(to: url)
            progress("qbench: JSON written to \(url.path)")
            environment.logs.remove()
        }
    }
}

/// `qbench monitor-probe`: the monitor figures that need a process of their own.
struct MonitorProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor-probe", abstract: "Measure qmon's model in this process (used by run).", shouldDisplay: false)

    enum Kind: String, ExpressibleByArgument { case memory, frames, ingest }

    @Argument var kind: Kind
    @Option(help: "memory: repeat for each count at which to read the memory (one stream).") var tasks: [Int] = [100_000]
    @Option var maxTasks: Int = 100_000
    @Option var frames: Int = 100
    @Option var runs: Int = 3
    @Option(help: "ingest: single or multi.") var batching: String = "multi"
    @Option(help: "frames: the file to write the result to (stdout is the terminal).") var result: String?

    func run() throws {
        switch kind {
        case .memory:
            print(JSONValue.object(try MonitorProbe.memory(checkpoints: tasks, maxTasks: maxTasks)).jsonString)
        case .ingest:
            // For profiling (e.g. under callgrind): the stream is made first, then ingested `runs` times.
            var messages: [[UInt8]] = []
            EventStream.generate(tasks: tasks.max() ?? 0, batching: EventStream.Batching(rawValue: batching) ?? .multi) { m, _ in messages.append(m) }
            for _ in 0..<runs {
                let (rate, _) = try MonitorIngest.measure(messages)
                print(JSONValue.object(["events_per_second": .double(rate.rounded())]).jsonString)
            }
        case .frames:
            guard let result else { throw ValidationError("frames needs --result PATH") }
            let figures = try MonitorProbe.frames(tasks: tasks.max() ?? 0, frames: frames, runs: runs)
            // Written whole under a temporary name, so the waiting parent never reads half a file.
            try Data((JSONValue.object(figures).jsonString + "\n").utf8).write(to: URL(fileURLWithPath: result + ".tmp"))
            try FileManager.default.moveItem(atPath: result + ".tmp", toPath: result)
        }
    }
}
