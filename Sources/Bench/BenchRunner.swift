public import Celeriac
public import Logging
import Foundation
import CeleriacTestSupport

/// Runs the phases of the benchmark on one private Redis, Swift side then Python side for each
/// figure, and builds the report's rows and the JSON details.
public struct BenchRunner: Sendable {
    /// The groups of rows; `--only` picks some.
    public enum Phase: String, Sendable, CaseIterable {
        case monitor, ceiling, enqueue, roundtrip, drain, scaling, payload, backlog
    }

    let plan: BenchPlan
    let environment: BenchEnvironment
    let redis: BenchRedis
    let logger: Logger
    /// This executable, run again as `qbench monitor-probe …` for the monitor's clean-process figures.
    let probe: String
    let progress: @Sendable (String) -> Void

    public init(
        plan: BenchPlan, environment: BenchEnvironment, redis: BenchRedis, logger: Logger, probe: String,
        progress: @escaping @Sendable (String) -> Void
    ) {
        self.plan = plan
        self.environment = environment
        self.redis = redis
        self.logger = logger
        self.probe = probe
        self.progress = progress
    }

    /// Runs `phases` in a fixed order; returns the rows in print order and the details.
    public func run(_ phases: Set<Phase>) async throws -> (rows: [Measurement], details: JSONObject) {
        var rows: [Measurement] = []
        var details = JSONObject()
        for phase in Phase.allCases where phases.contains(phase) {
            progress("== \(phase.rawValue)")
            switch phase {
            case .monitor: rows += try await monitor(&details)
            case .ceiling: rows += try ceiling()
            case .enqueue: rows += try await enqueue()
            case .roundtrip: rows += try await roundTrip()
            case .drain: rows += try await drain(&details)
            case .scaling: rows += try await scaling(&details)
            case .payload: rows += try await payload(&details)
            case .backlog: rows += try await backlog(&details)
            }
        }
        // Print order: worker figures first, the monitor last.
        let order: [String] = ["Worker drain", "Worker processes", "Enqueue", "Round trip", "Payload size", "Backlog",
                               "Redis per task", "Redis itself", "Monitor (qmon)"]
        rows.sort { (order.firstIndex(of: $0.section) ?? 99) < (order.firstIndex(of: $1.section) ?? 99) }
        return (rows, details)
    }

    var drains: DrainBenchmark { DrainBenchmark(redis: redis, environment: environment, progress: progress) }
    var python: PythonScript { PythonScript(environment: environment) }
    var pythonVariables: [String: String] { ["CELERY_BROKER_URL": redis.brokerURL, "CELERY_RESULT_BACKEND": redis.resultURL] }

    // MARK: Worker drain

    static let drainConfigs: [(id: String, title: String, results: Bool, events: Bool, target: Target?)] = [
        ("plain", "results off, events off", false, false, .atLeast(50_000)),
        ("results", "results in Redis", true, false, nil),
        ("results_events", "results + events (-E)", true, true, .atLeast(30_000)),
    ]

    func drain(_ details: inout JSONObject) async throws -> [Measurement] {
        var rows: [Measurement] = []
        var redisRows: [Measurement] = []
        var breakdowns = JSONObject()
        for config in Self.drainConfigs {
            progress("drain, \(config.title): Swift (1 qworker process)")
            let swift = try await drains.measure(
                WorkerSpec(side: .swift, processes: 1, results: config.results, events: config.events),
                size: plan.swiftDrain, runs: plan.runs)
            progress("drain, \(config.title): Python (prefork -c 2)")
            let py = try await drains.measure(
                WorkerSpec(side: .python, processes: 2, results: config.results, events: config.events),
                size: plan.pythonDrain, runs: plan.runs)
            rows.append(Measurement(
                id: "drain.\(config.id)", section: "Worker drain", title: "no-op tasks, \(config.title)", unit: "tasks/s",
                higherIsBetter: true, swift: Sample(swift.map(\.rate)), python: Sample(py.map(\.rate)), target: config.target,
                note: config.id == "plain"
                    ? "One worker process drains a backlog released at once (`RENAME` of a pre-filled list); timed until the queue and kombu's `unacked` are empty and every result is stored. Swift: `qworker` (release build, default concurrency); Python: `celery worker --pool prefork -c 2`. Each run is sized by an unmeasured calibration drain to last about \(Int(plan.swiftDrain.seconds)) s (Swift, \(FigureFormat.grouped(plan.swiftDrain.minimum))–\(FigureFormat.grouped(plan.swiftDrain.maximum)) tasks) or \(Int(plan.pythonDrain.seconds)) s (Python, \(FigureFormat.grouped(plan.pythonDrain.minimum))–\(FigureFormat.grouped(plan.pythonDrain.maximum))); the counts are in the JSON."
                    : nil))
            redisRows.append(Measurement(
                id: "redis.commands.\(config.id)", section: "Redis per task", title: "commands per task, \(config.title)",
                unit: "commands", higherIsBetter: false, swift: Sample(swift.map(\.commandsPerTask)),
                python: Sample(py.map(\.commandsPerTask)),
                note: config.id == "plain" ? "From `INFO commandstats` and `total_reads_processed` over each drain run (the benchmark's own polls left out); commands a Lua script calls count too (Swift's reservation script does one `RPOP` per message). A round trip is one read by Redis, however many commands it carries." : nil))
            redisRows.append(Measurement(
                id: "redis.round_trips.\(config.id)", section: "Redis per task", title: "round trips per task, \(config.title)",
                unit: "reads", higherIsBetter: false, swift: Sample(swift.map(\.roundTripsPerTask)),
                python: Sample(py.map(\.roundTripsPerTask))))
            breakdowns.append(config.id, ["swift": Self.breakdown(swift), "python": Self.breakdown(py)])
            Self.noteTasks(&details, "drain.\(config.id)", swift: swift, python: py)
        }
        details.append("commands_per_task", .object(breakdowns))
        return rows + redisRows
    }

    /// Calls per task of each command, over all runs.
    static func breakdown(_ runs: [DrainRun]) -> JSONValue {
        var total = CommandStats()
        var tasks = 0
        for run in runs {
            total = CommandStats(calls: total.calls.merging(run.commands.calls, uniquingKeysWith: +))
            tasks += run.tasks
        }
        return .object(JSONObject(total.perTask(tasks).map { JSONMember($0.command, .double(($0.perTask * 1000).rounded() / 1000)) }))
    }

    /// Records the tasks per run of a row's drains in the details.
    static func noteTasks(_ details: inout JSONObject, _ id: String, swift: [DrainRun], python: [DrainRun]) {
        var counts = details["tasks_per_run"]?.objectValue ?? JSONObject()
        counts[id] = ["swift": .int(swift.first?.tasks ?? 0), "python": .int(python.first?.tasks ?? 0)]
        details["tasks_per_run"] = .object(counts)
    }

    func scaling(_ details: inout JSONObject) async throws -> [Measurement] {
        var rows: [Measurement] = []
        for n in [1, 2, 4] {
            progress("drain with \(n) worker processes (results on): Swift")
            let swift = try await drains.measure(
                WorkerSpec(side: .swift, processes: n, results: true, events: false), size: plan.swiftDrain, runs: plan.runs)
            progress("drain with \(n) worker processes (results on): Python")
            let py = try await drains.measure(
                WorkerSpec(side: .python, processes: n, results: true, events: false), size: plan.pythonDrain, runs: plan.runs)
            Self.noteTasks(&details, "drain.processes_\(n)", swift: swift, python: py)
            rows.append(Measurement(
                id: "drain.processes_\(n)", section: "Worker processes", title: "\(n) worker process\(n == 1 ? "" : "es"), results on",
                unit: "tasks/s", higherIsBetter: true, swift: Sample(swift.map(\.rate)), python: Sample(py.map(\.rate)),
                note: n == 1 ? "Swift: N `qworker` processes on the queue; Python: one Celery worker with N prefork processes (`-c N`). Two cores: more processes than cores only adds contention." : nil))
        }
        return rows
    }

    func payload(_ details: inout JSONObject) async throws -> [Measurement] {
        var rows: [Measurement] = []
        for p in plan.payloads {
            let label = p.bytes >= 1_000_000 ? "\(p.bytes / 1_000_000) MB" : p.bytes >= 1_000 ? "\(p.bytes / 1_000) KB" : "\(p.bytes) B"
            progress("drain with \(label) payloads: Swift")
            let swift = try await drains.measure(
                WorkerSpec(side: .swift, processes: 1, results: true, events: false), size: p.swift, runs: plan.runs, payloadBytes: p.bytes)
            progress("drain with \(label) payloads: Python")
            let py = try await drains.measure(
                WorkerSpec(side: .python, processes: 2, results: true, events: false), size: p.python, runs: plan.runs, payloadBytes: p.bytes)
            Self.noteTasks(&details, "payload.\(p.bytes)", swift: swift, python: py)
            rows.append(Measurement(
                id: "payload.\(p.bytes)", section: "Payload size", title: "drain, \(label) argument, results on", unit: "tasks/s",
                higherIsBetter: true, swift: Sample(swift.map(\.rate)), python: Sample(py.map(\.rate)),
                note: p.bytes == plan.payloads.first?.bytes
                    ? "One string argument of that size, one worker process (Python: prefork -c 2); runs sized as above, at most " + plan.payloads.map { "\(FigureFormat.grouped($0.swift.maximum))/\(FigureFormat.grouped($0.python.maximum))" }.joined(separator: ", ") + " tasks (Swift/Python)."
                    : nil))
        }
        return rows
    }

    func backlog(_ details: inout JSONObject) async throws -> [Measurement] {
        progress("backlog of \(FigureFormat.grouped(plan.backlog)): Swift, sampled for up to \(plan.swiftBacklogWindow)")
        let swift = try await drains.backlogMemory(
            WorkerSpec(side: .swift, processes: 1, results: false, events: false), backlog: plan.backlog, window: plan.swiftBacklogWindow)
        progress("  drained \(FigureFormat.grouped(swift.drained)) in \(FigureFormat.number(swift.seconds)) s")
        progress("backlog of \(FigureFormat.grouped(plan.backlog)): Python, sampled for \(plan.pythonBacklogWindow)")
        let py = try await drains.backlogMemory(
            WorkerSpec(side: .python, processes: 2, results: false, events: false), backlog: plan.backlog, window: plan.pythonBacklogWindow)
        progress("  drained \(FigureFormat.grouped(py.drained)) in \(FigureFormat.number(py.seconds)) s")
        func mb(_ b: Int) -> Double { Double(b) / 1_048_576 }
        func series(_ r: BacklogMemoryRun) -> JSONValue {
            [
                "backlog": .int(r.backlog), "drained": .int(r.drained), "seconds": .double(r.seconds),
                "rss_mb": .array(r.samples.map { ["t": .double(($0.seconds * 10).rounded() / 10), "mb": .double((mb($0.bytes) * 10).rounded() / 10)] }),
            ]
        }
        details.append("backlog_rss", ["swift": series(swift), "python": series(py)])
        let label = FigureFormat.grouped(plan.backlog)
        return [
            Measurement(
                id: "backlog.rss_start", section: "Backlog", title: "worker RSS before a \(label)-task backlog is released",
                unit: "MB", higherIsBetter: false, swift: Sample([mb(swift.startBytes)]), python: Sample([mb(py.startBytes)]),
                note: "Results and events off. RSS (`VmRSS`, a Celery worker counted with its pool) sampled every 200 ms while draining: Swift for up to \(plan.swiftBacklogWindow) (it drained \(FigureFormat.grouped(swift.drained))), Python for \(plan.pythonBacklogWindow) (\(FigureFormat.grouped(py.drained))); the three runs are the highest RSS in each third of that window. Flat = prefetch is bounded."),
            Measurement(
                id: "backlog.rss_max", section: "Backlog", title: "worker RSS while draining it (max per third of the window)",
                unit: "MB", higherIsBetter: false, swift: Sample(swift.maxBytesPerThird.map(mb)), python: Sample(py.maxBytesPerThird.map(mb)),
                target: .atMost((mb(swift.startBytes) * 1.2 * 10).rounded() / 10)),
        ]
    }

    // MARK: Clients

    func enqueue() async throws -> [Measurement] {
        let clients = ClientBenchmark(redis: redis, logger: logger)
        try await redis.flushAll()
        progress("enqueue: Swift send, one at a time")
        var single: [Double] = []
        for _ in 0..<plan.runs { single.append(try await clients.singleSends(count: plan.swiftSingleSends)) }
        progress("enqueue: Swift sendMany, batches of \(plan.bulkBatch)")
        var bulk: [Double] = []
        for _ in 0..<plan.runs { bulk.append(try await clients.bulkSends(count: plan.swiftBulkSends, batch: plan.bulkBatch)) }
        progress("enqueue: Swift sendMany without result subscriptions")
        var bulkUnsubscribed: [Double] = []
        for _ in 0..<plan.runs {
            bulkUnsubscribed.append(try await clients.bulkSends(count: plan.swiftBulkSends, batch: plan.bulkBatch, subscribingResults: false))
        }
        progress("enqueue: Python delay()")
        let py = try await python.run("py_enqueue.py", [String(plan.pythonSends), String(plan.runs)], variables: pythonVariables)
        try await redis.flushAll()
        let pyRates = Sample(py.numbers("rates"))
        return [
            Measurement(
                id: "enqueue.single", section: "Enqueue", title: "one client, single sends (`send` awaited / `delay()`)", unit: "tasks/s",
                higherIsBetter: true, swift: Sample(single), python: pyRates, target: .ratioAtLeast(10),
                note: "No-op tasks, results backend configured (each send subscribes to its result, as Celery's `delay()` does). Per run: Swift \(FigureFormat.grouped(plan.swiftSingleSends)) single / \(FigureFormat.grouped(plan.swiftBulkSends)) bulk, Python \(FigureFormat.grouped(plan.pythonSends))."),
            Measurement(
                id: "enqueue.bulk", section: "Enqueue", title: "one client, bulk `sendMany` (\(FigureFormat.grouped(plan.bulkBatch)) per batch) vs `delay()`",
                unit: "tasks/s", higherIsBetter: true, swift: Sample(bulk), python: pyRates, target: .atLeast(100_000)),
            Measurement(
                id: "enqueue.bulk_unsubscribed", section: "Enqueue",
                title: "one client, `sendMany(subscribingResults: false)` vs `delay()`", unit: "tasks/s", higherIsBetter: true,
                swift: Sample(bulkUnsubscribed), python: pyRates, target: .atLeast(100_000),
                note: "For producers that rarely wait: no result subscription per task; `get()` subscribes when called (one more round trip then). Python's `delay()` always subscribes."),
        ]
    }

    func roundTrip() async throws -> [Measurement] {
        try await redis.flushAll()
        progress("round trip: Swift client + Swift worker")
        let fleet = try WorkerFleet(
            spec: WorkerSpec(side: .swift, processes: 1, results: true, events: false), brokerURL: redis.brokerURL,
            resultURL: redis.resultURL, queue: DrainBenchmark.queue, environment: environment, tag: "rtt")
        var p50: [Double] = [], p99: [Double] = []
        do {
            let clients = ClientBenchmark(redis: redis, logger: logger)
            for _ in 0..<plan.runs {
                let latencies = try await clients.roundTrips(count: plan.roundTrips)
                p50.append(Percentile.of(latencies, 0.5) * 1000)
                p99.append(Percentile.of(latencies, 0.99) * 1000)
            }
        } catch {
            await fleet.stop()
            throw BenchError("\(error)\n\(fleet.logTails)")
        }
        await fleet.stop()
        try await redis.flushAll()
        progress("round trip: Python client + Python prefork worker")
        let pyFleet = try WorkerFleet(
            spec: WorkerSpec(side: .python, processes: 2, results: true, events: false), brokerURL: redis.brokerURL,
            resultURL: redis.resultURL, queue: DrainBenchmark.queue, environment: environment, tag: "rtt")
        let py: JSONObject
        do {
            py = try await python.run("py_roundtrip.py", [String(plan.roundTrips), String(plan.runs)], variables: pythonVariables)
        } catch {
            await pyFleet.stop()
            throw BenchError("\(error)\n\(pyFleet.logTails)")
        }
        await pyFleet.stop()
        try await redis.flushAll()
        return [
            Measurement(
                id: "roundtrip.p50", section: "Round trip", title: "`delay` then `get`, p50", unit: "ms", higherIsBetter: false,
                swift: Sample(p50), python: Sample(py.numbers("p50_ms")), target: .atMost(0.5),
                note: "\(FigureFormat.grouped(plan.roundTrips)) sequential calls per run of a no-op task: Swift client and one `qworker`; Python client and `celery worker --pool prefork -c 2`."),
            Measurement(
                id: "roundtrip.p99", section: "Round trip", title: "`delay` then `get`, p99", unit: "ms", higherIsBetter: false,
                swift: Sample(p99), python: Sample(py.numbers("p99_ms")), target: .atMost(2)),
        ]
    }

    // MARK: Redis itself

    func ceiling() throws -> [Measurement] {
        var pipelined: [Double] = [], unpipelined: [Double] = []
        for _ in 0..<plan.runs {
            pipelined.append(try RedisCeiling.lpush(port: redis.port, pipeline: 64, requests: plan.ceilingPipelined))
            unpipelined.append(try RedisCeiling.lpush(port: redis.port, pipeline: 1, requests: plan.ceilingUnpipelined))
        }
        return [
            Measurement(
                id: "redis.lpush_pipelined", section: "Redis itself", title: "`LPUSH`, one connection, pipelined 64 deep",
                unit: "commands/s", higherIsBetter: true, swift: Sample(pipelined), python: nil,
                note: "`redis-benchmark -c 1 -t lpush` against the same server; shown in the Swift column, it is Redis's own ceiling for both sides."),
            Measurement(
                id: "redis.lpush_unpipelined", section: "Redis itself", title: "`LPUSH`, one connection, one round trip each",
                unit: "commands/s", higherIsBetter: true, swift: Sample(unpipelined), python: nil),
        ]
    }

    // MARK: Monitor

    func monitor(_ details: inout JSONObject) async throws -> [Measurement] {
        var rows: [Measurement] = []
        var streams = JSONObject()
        for batching in EventStream.Batching.allCases {
            let path = environment.logs.file("events-\(batching.rawValue).lines")
            let events = try EventStream.write(tasks: plan.monitorStreamTasks, batching: batching, to: path)
            let messages = try EventStream.read(from: path)
            progress("monitor ingest, \(batching.rawValue): \(FigureFormat.grouped(events)) events in \(FigureFormat.grouped(messages.count)) messages: Swift")
            var swift: [Double] = []
            for _ in 0..<plan.runs {
                let (rate, state) = try MonitorIngest.measure(messages)
                guard state.eventCount == events else { throw BenchError("qmon's model took \(state.eventCount) of \(events) events") }
                swift.append(rate)
            }
            progress("monitor ingest, \(batching.rawValue): Python State")
            let py = try await python.run("py_monitor_ingest.py", [path, String(plan.runs)])
            guard py["events"]?.intValue == events else { throw BenchError("Python counted \(py["events"] ?? .null) of \(events) events") }
            streams.append(batching.rawValue, ["tasks": .int(plan.monitorStreamTasks), "events": .int(events), "messages": .int(messages.count)])
            rows.append(Measurement(
                id: "monitor.ingest_\(batching.rawValue)", section: "Monitor (qmon)",
                title: batching == .single ? "events ingested, one event per message" : "events ingested, `task.multi` batches of 24",
                unit: "events/s", higherIsBetter: true, swift: Sample(swift), python: Sample(py.numbers("rates")),
                target: .ratioAtLeast(20),
                note: batching == .single
                    ? "The same generated stream file (\(FigureFormat.grouped(plan.monitorStreamTasks)) tasks × received/started/succeeded, 4 workers, heartbeats) for both: decoding the kombu envelope and body included. Swift: `EventCodec.decode` + `ClusterState.apply`; Python: `EventReceiver._receive` → `celery.events.state.State.event` (`max_tasks_in_memory=100000`, as qmon's store)."
                    : nil))
        }
        details.append("monitor_streams", .object(streams))

        var rss: [Int: [Double]] = [:]
        let marks = plan.monitorMemoryTasks.flatMap { ["--tasks", String($0)] }
        progress("qmon model memory after \(plan.monitorMemoryTasks.map(FigureFormat.grouped).joined(separator: " and ")) tasks (one separate process per run)")
        for _ in 0..<plan.runs {
            let out = try await runProbe(["memory"] + marks)
            for case .object(let checkpoint) in out["checkpoints"]?.arrayValue ?? [] {
                guard let seen = checkpoint["checkpoint"]?.intValue, plan.monitorMemoryTasks.contains(seen) else { continue }
                rss[seen, default: []].append(Double(checkpoint["rss_bytes"]?.intValue ?? 0) / 1_048_576)
            }
        }
        let small = plan.monitorMemoryTasks.first ?? 0
        for tasks in plan.monitorMemoryTasks {
            let isLarger = tasks != small
            rows.append(Measurement(
                id: "monitor.rss_\(tasks)", section: "Monitor (qmon)", title: "model RSS after \(FigureFormat.grouped(tasks)) tasks seen",
                unit: "MB", higherIsBetter: false, swift: Sample(rss[tasks] ?? []), python: nil,
                target: isLarger ? Sample(rss[small] ?? []).map { .atMost(($0.median * 10).rounded() / 10) } : nil,
                note: isLarger ? nil : "A process of its own (`qbench monitor-probe memory`) feeds one generated stream (task.multi, decoded) into a `ClusterState` with the default 100,000-task store and reads its `VmRSS` as the count of tasks seen passes 100,000 and then the larger count, as a long-running qmon would; the larger reading must not be higher (target: the 100,000 median)."))
        }

        progress("qmon frame render with \(FigureFormat.grouped(plan.frameTasks)) tasks (separate process on a pty)")
        let frames = try await runFrameProbe()
        for (key, title) in [("tasks_ms", "Tasks"), ("overview_ms", "Overview")] {
            rows.append(Measurement(
                id: "monitor.frame_\(title.lowercased())", section: "Monitor (qmon)",
                title: "one frame of the \(title) screen, \(FigureFormat.grouped(plan.frameTasks)) tasks held", unit: "ms",
                higherIsBetter: false, swift: Sample(frames.numbers(key)), python: nil, target: .atMost(5),
                note: title == "Tasks" ? "Layout + ncurses draw on a real 200×50 terminal (a tmux pane), the model changed by a batch of events before every frame; each run is the median of \(plan.frames) frames." : nil))
        }
        return rows
    }

    /// Runs `qbench monitor-probe frames` in a 200×50 tmux pane (a real terminal) and reads the
    /// JSON it writes to a file.
    func runFrameProbe() async throws -> JSONObject {
        let result = environment.logs.file("frames.json")
        let log = environment.logs.file("frames.log")
        let command = [probe, "monitor-probe", "frames", "--tasks", String(plan.frameTasks), "--frames", String(plan.frames),
                       "--runs", String(plan.runs), "--result", result].joined(separator: " ") + " 2>\(log)"
        let session = try TmuxSession(command: command, cols: 200, rows: 50)
        defer { session.kill() }
        let deadline = ContinuousClock.now + .seconds(300)
        while !FileManager.default.fileExists(atPath: result) {
            if ContinuousClock.now > deadline {
                throw BenchError("the frame probe wrote no result: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        guard let data = FileManager.default.contents(atPath: result), case .object(let object)? = try? JSONParser.parse([UInt8](data)) else {
            throw BenchError("the frame probe's result is not JSON")
        }
        return object
    }

    /// Runs `qbench monitor-probe …` and reads the JSON it prints.
    func runProbe(_ arguments: [String]) async throws -> JSONObject {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: probe)
        process.arguments = ["monitor-probe"] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.standardError
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0, let line = text.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
            case .object(let object)? = try? JSONParser.parse(String(line))
        else { throw BenchError("qbench monitor-probe \(arguments.joined(separator: " ")) failed (\(process.terminationStatus)): \(text.suffix(1000))") }
        return object
    }
}
