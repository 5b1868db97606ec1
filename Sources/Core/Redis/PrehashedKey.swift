/// A string key for very large sets and dictionaries, with its hash computed once.
///
/// Swift's native hash tables store no hash codes, so every probe that lands on an occupied
/// bucket compares the keys in full. With the hundreds of thousands of result channels a bulk
/// producer subscribes (36-byte task ids, 53-byte channel names), inserts spent most of their
/// time in `memcmp` over near-full tables. Comparing the stored hashes first makes a probe
/// past someone else's key an integer compare; hashing the key is hashing one `Int`.
struct PrehashedKey: Hashable, Sendable {
    let string: String
    private let hash: Int

    init(_ string: String) {
        self.string = string
        hash = string.hashValue
    }

    static func == (a: PrehashedKey, b: PrehashedKey) -> Bool {
        a.hash == b.hash && a.string == b.string
    }

    func hash(into hasher: inout Hasher) { hasher.combine(hash) }
}
