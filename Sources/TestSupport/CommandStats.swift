/// Calls per command from `INFO commandstats`, to count what a task costs Redis (the benchmark's
/// figures and the worker's bookkeeping tests).
///
/// Redis 7 names subcommands with a bar (`cmdstat_client|list`); they are kept as separate
/// entries. The benchmark resets the counters (`CONFIG RESETSTAT`) before a run and reads them
/// after, subtracting its own polling (``subtracting(_:)``).
public struct CommandStats: Sendable, Hashable {
    /// Calls by lower-case command name.
    public private(set) var calls: [String: Int]

    /// Stats from explicit counts.
    public init(calls: [String: Int] = [:]) { self.calls = calls }

    /// Parses the `commandstats` section: `cmdstat_lpush:calls=3,usec=7,usec_per_call=2.33,…`.
    public init(info text: String) {
        var calls: [String: Int] = [:]
        for line in text.split(whereSeparator: \.isNewline) where line.hasPrefix("cmdstat_") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = String(line[line.index(line.startIndex, offsetBy: 8)..<colon])
            for field in line[line.index(after: colon)...].split(separator: ",") where field.hasPrefix("calls=") {
                calls[name] = Int(field.dropFirst(6))
            }
        }
        self.calls = calls
    }

    /// All calls.
    public var total: Int { calls.values.reduce(0, +) }

    /// These counts minus `other`'s (commands the benchmark itself sent), never below zero;
    /// commands left at zero are dropped.
    public func subtracting(_ other: CommandStats) -> CommandStats {
        var out = calls
        for (name, n) in other.calls {
            let left = (out[name] ?? 0) - n
            out[name] = left > 0 ? left : nil
        }
        return CommandStats(calls: out)
    }

    /// Calls per task for each command, most frequent first (ties by name).
    public func perTask(_ tasks: Int) -> [(command: String, perTask: Double)] {
        guard tasks > 0 else { return [] }
        return calls.map { ($0.key, Double($0.value) / Double(tasks)) }
            .sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
    }
}
