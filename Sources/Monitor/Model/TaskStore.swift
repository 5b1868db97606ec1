public import DequeModule

/// The tasks the monitor remembers: at most ``capacity`` (100,000 by default, `--max-tasks`)
/// and at most ``byteBudget`` bytes by its own count (``approximateBytes``, 128 MiB by default,
/// `--max-task-memory`), in the order first seen, the oldest evicted first (as Celery's
/// `State.tasks` LRU, which is only ever written on creation).
///
/// The byte count is kept as records change: each record's estimated heap bytes
/// (``TaskRecord/approximateHeapBytes``, every string it holds) plus a fixed cost per record
/// (``fixedBytesPerRecord``: its slot in the ring and its index entry). The texts in a record
/// are already cut to a per-field limit when merged, so one record never holds more than
/// about five times ``ClusterState/Configuration/maxFieldBytes``.
///
/// Records live in a ring (`Deque`) and an id index maps each uuid to its sequence number, so
/// lookup, insertion and eviction are O(1) and a record is stored once, not in a hash table
/// slot sized for it. Iterate ``newestFirst`` for the task list.
public struct TaskStore: Sendable {
    /// Most records kept.
    public let capacity: Int
    /// Most bytes held by the records, by ``approximateBytes``; the newest record is kept even
    /// when it alone is over.
    public let byteBudget: Int
    /// Sum of ``TaskRecord/approximateHeapBytes`` over the records, as last counted.
    public private(set) var heapBytes = 0
    /// Records evicted so far because the store was full.
    public private(set) var evictedCount: Int = 0
    /// Oldest first.
    private var records: Deque<TaskRecord> = []
    /// uuid → sequence number; position in `records` is `sequence - firstSequence`.
    private var index: [String: Int] = [:]
    /// Sequence number of `records.first`.
    private var firstSequence = 0
    /// The latest ids looked up by ``position(of:insertingAt:)`` with their sequence numbers,
    /// 32 slots by a cheap hash of the id: a task's events arrive close together, so most are
    /// found here without hashing the whole id into `index` (and a likely cache miss there).
    private var recent = [(id: String, seq: Int)](repeating: ("", -1), count: 32)
    /// Capacity reserved once half full (all of it up front for the ring of stores up to
    /// ``upFrontReservation`` records), so a full store holds no growth slack.
    private var reserved = 0

    /// Stores up to this many records reserve their whole ring when created: it is written in
    /// order, so its memory is address space until records arrive (an empty monitor stays
    /// small), and filling the store never copies the ring while events stream in. (The index
    /// is written at random places, so reserving it would make all of it resident at once.)
    static let upFrontReservation = 1 << 20

    /// What one record costs besides its heap: its slot in the ring and an index entry (a
    /// String key, an Int, hash-table slack at 75 % load).
    public static let fixedBytesPerRecord = MemoryLayout<TaskRecord>.stride + 48

    /// Creates an empty store.
    ///
    /// - Parameters:
    ///   - capacity: Most records kept, at least 1.
    ///   - byteBudget: Most bytes held by the records (``approximateBytes``); unbounded by default.
    public init(capacity: Int = 100_000, byteBudget: Int = .max) {
        precondition(capacity >= 1, "TaskStore capacity must be at least 1")
        self.capacity = capacity
        self.byteBudget = max(byteBudget, 0)
        if capacity <= Self.upFrontReservation { records.reserveCapacity(capacity) }
    }

    /// Bytes the records hold by the store's count: ``fixedBytesPerRecord`` each plus
    /// ``heapBytes``. Kept at most ``byteBudget`` (unless one record alone is over it).
    public var approximateBytes: Int { records.count * Self.fixedBytesPerRecord + heapBytes }

    /// Number of records held.
    public var count: Int { records.count }

    /// Whether the store holds no record.
    public var isEmpty: Bool { records.isEmpty }

    /// The record for a task id, if held.
    public subscript(id: String) -> TaskRecord? {
        guard let p = position(of: id) else { return nil }
        return records[p]
    }

    /// Whether a record for `id` is held.
    public func contains(_ id: String) -> Bool { index[id] != nil }

    /// Records newest first (most recently *first seen* first), lazily.
    public var newestFirst: ReversedCollection<Deque<TaskRecord>> { records.reversed() }

    /// Records oldest first.
    public var oldestFirst: Deque<TaskRecord> { records }

    /// The `n` newest records, newest first.
    public func newest(_ n: Int) -> [TaskRecord] { Array(records.reversed().prefix(max(n, 0))) }

    /// Average bytes one task costs here: the record's slot, its index entry and its heap
    /// strings and timeline, estimated over the `sample` newest records.
    ///
    /// An estimate for display (`--max-tasks` sizing); the `TaskStoreTests` memory test
    /// measures the real figure with malloc statistics.
    /// - Parameter sample: How many of the newest records to look at.
    public func approximateBytesPerTask(sample: Int = 1024) -> Int {
        guard !records.isEmpty else { return MemoryLayout<TaskRecord>.stride }
        let held = records.count
        // Ring slots in use: reserved ones not reached yet are address space, not memory,
        // until written (the ring is written in order). A full store has used all of them.
        let inline = MemoryLayout<TaskRecord>.stride
        // The index's hash table: a power-of-two bucket count at most 75 % full, each bucket a
        // String key and an Int, plus one metadata bit.
        var buckets = 1
        while buckets * 3 / 4 < max(index.capacity, held) { buckets *= 2 }
        let indexEntry = buckets * (MemoryLayout<String>.stride + MemoryLayout<Int>.stride + 1) / held
        let n = min(max(sample, 1), held)
        var heap = 0
        for r in records.reversed().prefix(n) { heap += r.approximateHeapBytes }
        return inline + indexEntry + heap / n
    }

    // MARK: Mutation (for ClusterState)

    /// Position in `records` of `id`'s record.
    @inline(__always)
    func position(of id: String) -> Int? {
        guard let seq = index[id] else { return nil }
        return seq - firstSequence
    }

    /// The record at a position from ``position(of:)``, in place.
    subscript(position position: Int) -> TaskRecord {
        _read { yield records[position] }
        _modify { yield &records[position] }
    }

    /// Position of `id`'s record, appending a new one (``TaskRecord/init(uuid:receivedAt:)``)
    /// if it is not held, evicting the oldest when full.
    ///
    /// One hash of the id for both the lookup and the insertion: the monitor does this for
    /// every task event.
    mutating func position(of id: String, insertingAt receivedAt: Double) -> Int {
        let slot = Self.recentSlot(id)
        let hint = recent[slot]
        // A hint is right if it names this id and its record was not evicted since: sequence
        // numbers are never reused, and records only leave from the front.
        if hint.seq >= firstSequence, hint.id == id { return hint.seq - firstSequence }
        let p = lookUpOrAppend(id, receivedAt: receivedAt)
        recent[slot] = (id, firstSequence + p)
        return p
    }

    /// A cheap spread of an id's last eight bytes (a uuid's most varying part) over `recent`.
    @inline(__always)
    private static func recentSlot(_ id: String) -> Int {
        let tail =
            id.utf8.withContiguousStorageIfAvailable { b -> UInt64 in
                guard b.count >= 8 else { return b.reduce(UInt64(b.count)) { $0 &* 31 &+ UInt64($1) } }
                return UnsafeRawBufferPointer(b).loadUnaligned(fromByteOffset: b.count - 8, as: UInt64.self)
            } ?? UInt64(id.utf8.count)
        return Int(truncatingIfNeeded: (tail &* 0x9E37_79B9_7F4A_7C15) >> 59)
    }

    private mutating func lookUpOrAppend(_ id: String, receivedAt: Double) -> Int {
        // The new record's sequence number is known before eviction: it goes after the
        // current last one, whatever eviction removes from the front.
        let candidate = firstSequence + records.count
        var isNew = false
        let seq: Int = {
            if let existing = $0 { return existing }
            isNew = true
            $0 = candidate
            return candidate
        }(&index[id])
        guard isNew else { return seq - firstSequence }
        if records.count >= capacity, var oldest = records.popFirst() {
            index.removeValue(forKey: oldest.uuid)
            firstSequence += 1
            evictedCount += 1
            heapBytes -= Int(oldest.countedBytes)
            // The new record takes over the timeline buffer: it is counted with the new record
            // at its first ``recount(position:)``.
            records.append(TaskRecord(uuid: id, receivedAt: receivedAt, reusing: &oldest))
            return records.count - 1
        }
        reserveOnceHalfFull()
        records.append(TaskRecord(uuid: id, receivedAt: receivedAt))
        return records.count - 1
    }

    private mutating func reserveOnceHalfFull() {
        if reserved < capacity, records.count >= capacity / 2 {
            records.reserveCapacity(capacity)
            index.reserveCapacity(capacity)
            reserved = capacity
        }
    }

    /// Appends a new record (its uuid must not be held), evicting the oldest when full.
    ///
    /// - Returns: The new record's position and the evicted record, if any.
    mutating func append(_ record: TaskRecord) -> (position: Int, evicted: TaskRecord?) {
        var evicted: TaskRecord?
        if records.count >= capacity, let oldest = records.popFirst() {
            index.removeValue(forKey: oldest.uuid)
            firstSequence += 1
            evictedCount += 1
            heapBytes -= Int(oldest.countedBytes)
            evicted = oldest
        }
        reserveOnceHalfFull()
        index[record.uuid] = firstSequence + records.count
        records.append(record)
        records[records.count - 1].countedBytes = 0
        recount(position: records.count - 1)
        return (records.count - 1, evicted)
    }

    /// Counts the record at `position` again after it changed (``heapBytes``).
    @inline(__always)
    mutating func recount(position: Int) {
        heapBytes += records[position].recount()
    }

    /// Adds the change a caller counted with ``TaskRecord/recount()`` on a record in place.
    @inline(__always)
    mutating func heapBytesChanged(by delta: Int) { heapBytes += delta }

    /// Whether ``approximateBytes`` is over ``byteBudget``.
    @inline(__always)
    var isOverBudget: Bool { approximateBytes > byteBudget }

    /// Evicts the oldest records until ``approximateBytes`` is within ``byteBudget``, keeping
    /// at least the newest record. Positions from ``position(of:)`` taken before this are stale.
    mutating func evictOverBudget() {
        while approximateBytes > byteBudget, records.count > 1, let oldest = records.popFirst() {
            index.removeValue(forKey: oldest.uuid)
            firstSequence += 1
            evictedCount += 1
            heapBytes -= Int(oldest.countedBytes)
        }
    }

    /// Sets a field the monitor itself owns (``TaskRecord/retryOf``, ``TaskRecord/retriedAs``).
    ///
    /// - Parameters:
    ///   - id: The task id.
    ///   - update: Changes the record in place.
    /// - Returns: Whether the task was held.
    @discardableResult
    public mutating func update(_ id: String, _ update: (inout TaskRecord) -> Void) -> Bool {
        guard let p = position(of: id) else { return false }
        update(&records[p])
        recount(position: p)
        evictOverBudget()
        return true
    }
}
