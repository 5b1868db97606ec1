/// Shares one storage for strings that repeat across many records (task names, hostnames,
/// queues), so 100,000 tasks of one name hold one heap string, not 100,000.
///
/// Bounded: after ``capacity`` distinct strings, new ones are returned as they are.
struct StringInterner: Sendable {
    let capacity: Int
    private var table: Set<String> = []

    init(capacity: Int = 4096) { self.capacity = capacity }

    /// The stored instance equal to `s`, storing `s` first if there is room.
    mutating func callAsFunction(_ s: String) -> String {
        // Short strings are stored inline in the String itself: nothing to share.
        if s.utf8.count <= 15 { return s }
        if let i = table.firstIndex(of: s) { return table[i] }
        if table.count < capacity { table.insert(s) }
        return s
    }

    var count: Int { table.count }
}
