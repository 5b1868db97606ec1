/// Reads what `qworker --loglevel info` wrote, to count executions and outage reports.
enum WorkerLog {
    /// How many times each task id's execution completed, from lines such as
    /// `Task demo.add[<id>] succeeded in 0.000012s: 4` or `Task demo.fail[<id>] raised unexpected: …`.
    static func completions(in logs: [String]) -> [String: Int] {
        var counts: [String: Int] = [:]
        for log in logs {
            for line in log.split(separator: "\n") {
                guard let end = line.range(of: "] succeeded in ")?.lowerBound ?? line.range(of: "] raised unexpected: ")?.lowerBound,
                      let open = line[..<end].lastIndex(of: "[") else { continue }
                counts[String(line[line.index(after: open)..<end]), default: 0] += 1
            }
        }
        return counts
    }

    /// Ids whose execution completed more than once.
    static func runTwice(in logs: [String]) -> Int {
        completions(in: logs).values.filter { $0 > 1 }.count
    }

    /// Warning, error and critical lines: what an operator notices. During an outage a worker
    /// should log one (that Redis is unreachable), not one per connection or per retry.
    static func problemLines(in log: String) -> [Substring] {
        log.split(separator: "\n").filter { $0.contains(": WARNING/") || $0.contains(": ERROR/") || $0.contains(": CRITICAL/") }
    }
}
