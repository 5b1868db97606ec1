/// The `field:value` lines of a Redis `INFO` reply (any section), e.g. `total_reads_processed`.
public struct RedisInfo: Sendable, Hashable {
    /// Every field, by name.
    public let fields: [String: String]

    /// Parses an `INFO` reply; section headers (`# Stats`) and blank lines are skipped.
    public init(_ text: String) {
        var fields: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        self.fields = fields
    }

    /// An integer field, e.g. `total_reads_processed`.
    public func int(_ name: String) -> Int? { fields[name].flatMap { Int($0) } }
}
