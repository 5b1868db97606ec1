/// Shares one storage for strings that repeat across many records (task names, hostnames,
/// queues), so 100,000 tasks of one name hold one heap string, not 100,000.
///
/// Bounded in bytes: after ``capacity`` distinct strings, new ones are returned as they are,
/// and strings longer than ``maxLength`` bytes (no real name is) are never stored.
struct StringInterner: Sendable {
    let capacity: Int
    let maxLength: Int
    private var table: Set<String> = []

    init(capacity: Int = 4096, maxLength: Int = 256) {
        self.capacity = capacity
        self.maxLength = maxLength
    }

    /// The stored instance equal to `s`, storing `s` first if there is room.
    mutating func callAsFunction(_ s: String) -> String {
        // Short strings are stored inline in the String itself: nothing to share.
        let n = s.utf8.count
        if n <= 15 || n > maxLength { return s }
        if let i = table.firstIndex(of: s) { return table[i] }
        if table.count < capacity { table.insert(s) }
        return s
    }

    var count: Int { table.count }
}
