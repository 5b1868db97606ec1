public import ArgumentParser

/// The model's limits, shared by the dashboard and `snapshot`: what bounds qmon's memory.
///
/// The held tasks take at most `--max-task-memory` MiB by the store's own count (records and
/// every text in them) and at most `--max-tasks` records; each task's args, kwargs, result,
/// exception and traceback is cut at `--max-field-bytes`; at most `--max-workers` workers are
/// kept. Events waiting for the model take at most 64 MiB
/// (``MonitorInputBuffer/defaultByteCapacity``); beyond that the oldest are dropped and counted.
public struct ModelOptions: ParsableArguments {
    /// Most tasks kept.
    @Option(name: .long, help: ArgumentHelp("Most tasks kept in memory; the oldest are dropped first.", valueName: "n"))
    public var maxTasks: Int = 100_000

    /// Most MiB the held tasks take.
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Memory for held tasks in MiB (records with their args, results, tracebacks); the oldest are dropped beyond it.",
            valueName: "MiB"))
    public var maxTaskMemory: Int = ClusterState.Configuration.defaultMaxTaskBytes >> 20

    /// Most bytes kept of each long text of a task.
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Bytes kept of each task's args, kwargs, result, exception and traceback; the detail screen says where the rest is.",
            valueName: "bytes"))
    public var maxFieldBytes: Int = ClusterState.Configuration.defaultMaxFieldBytes

    /// Most workers kept.
    @Option(name: .long, help: ArgumentHelp("Most workers kept in memory; offline ones, then the least recently seen, go first.", valueName: "n"))
    public var maxWorkers: Int = 5_000

    public init() {}

    public func validate() throws {
        if maxTasks < 1 { throw ValidationError("--max-tasks must be at least 1") }
        if maxTaskMemory < 1 || maxTaskMemory > 1 << 30 { throw ValidationError("--max-task-memory must be between 1 and 1073741824 (MiB)") }
        if maxFieldBytes < 64 { throw ValidationError("--max-field-bytes must be at least 64") }
        if maxWorkers < 1 { throw ValidationError("--max-workers must be at least 1") }
    }

    /// The model's configuration with these limits.
    ///
    /// - Parameter localUTCOffset: This monitor's offset (``Celeriac/CeleryEvent/localUTCOffset(timeZone:at:)``).
    public func configuration(localUTCOffset: Double) -> ClusterState.Configuration {
        ClusterState.Configuration(
            maxTasks: maxTasks, maxTaskBytes: maxTaskMemory << 20, maxFieldBytes: maxFieldBytes, maxWorkers: maxWorkers,
            localUTCOffset: localUTCOffset)
    }
}
