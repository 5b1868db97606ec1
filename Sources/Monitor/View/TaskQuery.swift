public import Celeriac

/// How the task list is sorted.
public enum TaskSort: String, Sendable, Hashable, CaseIterable {
    /// Newest first (the order tasks were first seen).
    case time
    /// Longest run time first; tasks without one last.
    case runtime
    /// By task name, newest first within a name.
    case name

    /// The next sort in the `s` cycle.
    public var next: TaskSort {
        let all = Self.allCases
        return all[(all.firstIndex(of: self)! + 1) % all.count]
    }
}

/// Which tasks the task list shows, in which order: state, name and worker filters, a search
/// over id, name and arguments, and a sort.
public struct TaskQuery: Sendable, Hashable {
    /// Only tasks in this state.
    public var state: TaskState?
    /// Only tasks of this name.
    public var name: String?
    /// Only tasks last seen on this worker.
    public var worker: String?
    /// Only tasks whose id, name, args or kwargs contain this (ASCII case-insensitive).
    public var search: String = ""
    /// Order.
    public var sort: TaskSort = .time

    /// Creates a query; the default shows every task, newest first.
    public init(state: TaskState? = nil, name: String? = nil, worker: String? = nil, search: String = "", sort: TaskSort = .time) {
        self.state = state
        self.name = name
        self.worker = worker
        self.search = search
        self.sort = sort
    }

    /// Whether every task is shown in store order (no copy of the list is needed).
    public var isEverything: Bool { state == nil && name == nil && worker == nil && search.isEmpty && sort == .time }

    /// Whether any filter or search is set.
    public var isFiltered: Bool { state != nil || name != nil || worker != nil || !search.isEmpty }

    /// The `f` cycle: failures first, since they are what operators look for.
    public static let stateCycle: [TaskState?] = [
        nil, .failure, .started, .received, .success, .retry, .revoked, .pending, .rejected,
    ]

    /// Whether a record matches the filters and search.
    public func matches(_ r: TaskRecord) -> Bool {
        if let state, r.state != state { return false }
        if let name, r.name != name { return false }
        if let worker, r.worker != worker { return false }
        if !search.isEmpty {
            let needle = Array(search.utf8).map(Self.lower)
            return Self.contains(r.uuid, needle) || Self.contains(r.name, needle) || Self.contains(r.args, needle)
                || Self.contains(r.kwargs, needle)
        }
        return true
    }

    @inline(__always) private static func lower(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b + 32 : b }

    /// Substring search on UTF-8 bytes, ASCII case-insensitive, without allocating.
    private static func contains(_ haystack: String?, _ needle: [UInt8]) -> Bool {
        guard let haystack, !needle.isEmpty else { return false }
        var h = haystack
        return h.withUTF8 { buf in
            let n = needle.count
            guard buf.count >= n else { return false }
            let first = needle[0]
            var i = 0
            while i <= buf.count - n {
                if lower(buf[i]) == first {
                    var j = 1
                    while j < n, lower(buf[i + j]) == needle[j] { j += 1 }
                    if j == n { return true }
                }
                i += 1
            }
            return false
        }
    }
}

/// The task list for one query and one version of the model: which tasks, in which order.
///
/// With the default query this is the store itself, newest first, and costs nothing. Otherwise
/// the matching ids are collected and sorted once and reused until the model or the query
/// changes (the loop keeps one in ``ViewState/listing``), so a frame with 100,000 tasks lays out
/// only its visible rows.
public struct TaskListing: Sendable {
    /// The query this answers.
    public let query: TaskQuery
    /// The model version it was computed for (``ViewState/modelVersion``).
    public let version: Int
    /// Tasks held when computed (catches a changed model whose version was not bumped).
    let storeCount: Int
    /// Matching ids in display order; `nil` = every task in store order.
    private let ids: [String]?

    /// Computes the listing.
    ///
    /// - Parameters:
    ///   - model: The model.
    ///   - query: Filters, search and sort.
    ///   - version: The model's version, to know when this is stale.
    public init(model: ClusterState, query: TaskQuery, version: Int) {
        self.query = query
        self.version = version
        self.storeCount = model.tasks.count
        if query.isEverything {
            ids = nil
            return
        }
        var matched: [TaskRecord] = []
        for r in model.tasks.newestFirst where query.matches(r) { matched.append(r) }
        switch query.sort {
        case .time: break
        case .runtime:
            // Stable on the newest-first order for equal run times.
            let indexed = matched.enumerated().map { ($0.offset, $0.element.runtime ?? -1) }
            matched = indexed.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }.map { matched[$0.0] }
        case .name:
            let indexed = matched.enumerated().map { ($0.offset, $0.element.name ?? "\u{10FFFF}") }
            matched = indexed.sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }.map { matched[$0.0] }
        }
        ids = matched.map(\.uuid)
    }

    /// Whether this can be reused for `query` over `model` at `version`.
    public func isCurrent(for query: TaskQuery, model: ClusterState, version: Int) -> Bool {
        self.query == query && self.version == version && storeCount == model.tasks.count
    }

    /// Number of tasks listed.
    public func count(in model: ClusterState) -> Int { ids?.count ?? model.tasks.count }

    /// The id at a list position.
    public func id(at i: Int, in model: ClusterState) -> String? {
        if let ids { return ids.indices.contains(i) ? ids[i] : nil }
        return record(at: i, in: model)?.uuid
    }

    /// The record at a list position (`nil` if evicted since).
    public func record(at i: Int, in model: ClusterState) -> TaskRecord? {
        if let ids { return ids.indices.contains(i) ? model.tasks[ids[i]] : nil }
        let store = model.tasks.oldestFirst
        guard i >= 0, i < store.count else { return nil }
        return store[store.count - 1 - i]
    }

    /// Position of a task id in the list, if listed.
    public func index(of id: String, in model: ClusterState) -> Int? {
        if let ids { return ids.firstIndex(of: id) }
        guard let p = model.tasks.position(of: id) else { return nil }
        return model.tasks.count - 1 - p
    }

    /// Every listed id, in order.
    public func allIDs(in model: ClusterState) -> [String] { ids ?? model.tasks.newestFirst.map(\.uuid) }
}
