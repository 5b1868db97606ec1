import Celeriac
import Foundation

/// Where and when the benchmark ran, for the report's headline and JSON.
enum Machine {
    static func describe(date: Date, seconds: Double, redisVersion: String, quick: Bool, runs: Int) -> JSONObject {
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8))?
            .split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { String($0.split(separator: ":", maxSplits: 1).last ?? "").trimmingCharacters(in: .whitespaces) } ?? "?"
        var o = JSONObject()
        o.append("date", .string(CeleryDate.format(date)))
        o.append("duration_s", .double(seconds.rounded()))
        o.append("cpus", .int(ProcessInfo.processInfo.activeProcessorCount))
        o.append("cpu", .string(cpu))
        o.append("memory_gb", .double((Double(ProcessInfo.processInfo.physicalMemory) / 1_073_741_824).rounded()))
        o.append("os", .string(ProcessInfo.processInfo.operatingSystemVersionString))
        o.append("redis", .string(redisVersion))
        o.append("quick", .bool(quick))
        o.append("runs", .int(runs))
        return o
    }

    static func headline(_ c: JSONObject) -> String {
        let cpus = c["cpus"]?.intValue ?? 0
        return "qbench \(c["quick"]?.boolValue == true ? "(--quick) " : "")\(c["date"]?.stringValue ?? "") — \(cpus) CPU\(cpus == 1 ? "" : "s") (\(c["cpu"]?.stringValue ?? "?")), Redis \(c["redis"]?.stringValue ?? "?"), median of \(c["runs"]?.intValue ?? 0) runs, \(Int(c["duration_s"]?.doubleValue ?? 0)) s in all"
    }
}
