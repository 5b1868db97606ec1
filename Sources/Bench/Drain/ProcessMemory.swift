import Foundation

/// Resident memory of a process and its descendants, from `/proc` (Linux).
public enum ProcessMemory {
    /// `VmRSS` of one process in bytes, `nil` if it is gone.
    public static func residentBytes(pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let digits = line.dropFirst(6).filter(\.isNumber)
            return Int(digits).map { $0 * 1024 }
        }
        return nil
    }

    /// `VmRSS` summed over `pid` and every descendant (a Celery prefork worker and its pool).
    public static func treeResidentBytes(pid: Int32) -> Int? {
        guard let own = residentBytes(pid: pid) else { return nil }
        return children(of: pid).reduce(own) { $0 + (treeResidentBytes(pid: $1) ?? 0) }
    }

    /// Direct children, from `/proc/<pid>/task/<tid>/children` of every thread.
    static func children(of pid: Int32) -> [Int32] {
        let taskDir = "/proc/\(pid)/task"
        guard let threads = try? FileManager.default.contentsOfDirectory(atPath: taskDir) else { return [] }
        var out: [Int32] = []
        for tid in threads {
            guard let text = try? String(contentsOfFile: "\(taskDir)/\(tid)/children", encoding: .utf8) else { continue }
            out += text.split(separator: " ").compactMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        return out
    }
}
