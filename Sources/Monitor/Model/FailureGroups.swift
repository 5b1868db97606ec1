/// Task failures grouped by task name and exception type, each with a count and the latest
/// traceback, bounded to ``capacity`` groups (the least recently seen group goes first).
///
/// Each failed task is counted once (``ClusterState`` sees to duplicates). A failure seen
/// before its task's name (`task-failed` before a late `task-received`) is grouped under a
/// `nil` name, then moved to the name's group once the name arrives.
public struct FailureGroups: Sendable, Equatable {
    /// What groups failures.
    public struct Key: Sendable, Hashable {
        /// The task name; `nil` when it is unknown (e.g. `NotRegistered` failures never have one).
        public let taskName: String?
        /// The exception type parsed from the exception repr (``FailureGroups/exceptionType(of:)``).
        public let exceptionType: String

        /// Creates a key.
        public init(taskName: String?, exceptionType: String) {
            self.taskName = taskName
            self.exceptionType = exceptionType
        }
    }

    /// Failures of one task name with one exception type.
    public struct Group: Sendable, Hashable {
        /// The task name and exception type.
        public let key: Key
        /// Failed tasks in this group.
        public internal(set) var count: Int
        /// Local time of the first failure.
        public internal(set) var firstSeen: Double
        /// Local time of the latest failure.
        public internal(set) var lastSeen: Double
        /// The latest exception repr, e.g. `"ValueError('boom')"`.
        public internal(set) var latestException: String
        /// The latest traceback, if the event carried one.
        public internal(set) var latestTraceback: String?
        /// The latest failed task's id.
        public internal(set) var latestTaskID: String
    }

    /// Most groups kept.
    public let capacity: Int
    private var groups: [Key: Group] = [:]
    /// Failures counted over all groups, including dropped ones.
    public private(set) var totalCount: Int = 0

    /// Creates an empty set of groups.
    ///
    /// - Parameter capacity: Most groups kept, at least 1; 1,000 by default.
    public init(capacity: Int = 1_000) {
        precondition(capacity >= 1)
        self.capacity = capacity
    }

    /// Number of groups.
    public var count: Int { groups.count }

    /// The group for a key.
    public subscript(key: Key) -> Group? { groups[key] }

    /// All groups, the most recently failed first.
    public var newestFirst: [Group] {
        groups.values.sorted { ($0.lastSeen, $0.count) > ($1.lastSeen, $1.count) }
    }

    /// The exception type from Python's `repr(exc)`: `"ValueError('boom')"` → `"ValueError"`,
    /// `"requests.exceptions.ConnectionError(...)"` → the dotted name.
    ///
    /// Text that is not a repr (Celery sends `"reject requeue=False: no thanks"` for `Reject`)
    /// gives the part before the first `:` (at most 60 characters); empty text gives `"(unknown)"`.
    /// - Parameter exception: The `exception` field of `task-failed`/`task-retried`.
    public static func exceptionType(of exception: String?) -> String {
        guard let exception else { return "(unknown)" }
        let text = exception.utf8
        var end = text.startIndex
        while end < text.endIndex {
            let c = text[end]
            let ident = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x2E
            if !ident { break }
            end = text.index(after: end)
        }
        if end > text.startIndex, end == text.endIndex || text[end] == UInt8(ascii: "(") {
            return String(exception[..<end])
        }
        let head = exception.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let trimmed = head.trimmingSpaces()
        if trimmed.isEmpty { return "(unknown)" }
        return String(trimmed.prefix(60))
    }

    // MARK: Updates (for ClusterState)

    mutating func record(taskName: String?, exception: String?, traceback: String?, taskID: String, at time: Double) {
        totalCount += 1
        let key = Key(taskName: taskName, exceptionType: Self.exceptionType(of: exception))
        if var g = groups[key] {
            g.count += 1
            if time >= g.lastSeen {
                g.lastSeen = time
                g.latestException = exception ?? ""
                g.latestTraceback = traceback
                g.latestTaskID = taskID
            }
            g.firstSeen = min(g.firstSeen, time)
            groups[key] = g
            return
        }
        insert(Group(
            key: key, count: 1, firstSeen: time, lastSeen: time, latestException: exception ?? "",
            latestTraceback: traceback, latestTaskID: taskID))
    }

    /// Moves one failure of `taskID` from the unnamed group to `name`'s.
    mutating func assignName(_ name: String, exception: String?, traceback: String?, taskID: String, at time: Double) {
        let type = Self.exceptionType(of: exception)
        let unnamed = Key(taskName: nil, exceptionType: type)
        if var g = groups[unnamed] {
            g.count -= 1
            if g.count <= 0 { groups.removeValue(forKey: unnamed) } else { groups[unnamed] = g }
        }
        totalCount -= 1
        record(taskName: name, exception: exception, traceback: traceback, taskID: taskID, at: time)
    }

    private mutating func insert(_ group: Group) {
        if groups.count >= capacity,
            let stalest = groups.values.min(by: { $0.lastSeen < $1.lastSeen })
        {
            groups.removeValue(forKey: stalest.key)
        }
        groups[group.key] = group
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        var s = self
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return s
    }
}
