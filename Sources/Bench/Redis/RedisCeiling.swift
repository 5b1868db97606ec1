import Foundation

/// What Redis itself does on this machine, measured with `redis-benchmark` against the same
/// server: `LPUSH` from one connection, pipelined 64 deep and unpipelined (one round trip per
/// command), so the table shows how far a task's cost is from Redis's own.
public enum RedisCeiling {
    /// Requests per second of `redis-benchmark -c 1 -P <pipeline> -t lpush` on `port`.
    public static func lpush(port: Int, pipeline: Int, requests: Int) throws -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["redis-benchmark", "-h", "127.0.0.1", "-p", String(port), "-c", "1", "-n", String(requests),
                             "-P", String(pipeline), "-t", "lpush", "--csv"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0, let rate = parseCSV(text) else {
            throw BenchError("redis-benchmark failed (\(process.terminationStatus)): \(text.prefix(500))")
        }
        return rate
    }

    /// The `rps` of the `LPUSH` line of `redis-benchmark --csv` output (Redis 7:
    /// `"test","rps",…` then `"LPUSH","497512.44",…`).
    public static func parseCSV(_ text: String) -> Double? {
        for line in text.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\" ")) }
            if fields.count >= 2, fields[0].uppercased() == "LPUSH", let rps = Double(fields[1]) { return rps }
        }
        return nil
    }
}
