import Celeriac
import Foundation
import Synchronization

/// Ids of revoked tasks, kept as Celery keeps them: at most 50,000, each for 3 hours, oldest
/// dropped first (Celery's `LimitedSet`), optionally saved to a state file (`--statedb`) so a
/// restarted worker still refuses what was revoked before it went down.
final class RevokedTasks: Sendable {
    static let defaultLimit = 50_000
    static let defaultExpiry: Double = 10_800

    private struct State {
        /// Insertion-ordered ids with the time they were revoked (epoch seconds).
        var entries: [String: Double] = [:]
        var order: [String] = []
        var head = 0
    }

    private let state = Mutex(State())
    private let limit: Int
    private let expiry: Double
    private let stateFile: String?

    init(limit: Int = defaultLimit, expiry: Double = defaultExpiry, stateFile: String? = nil) {
        self.limit = limit
        self.expiry = expiry
        self.stateFile = stateFile
    }

    func contains(_ id: String) -> Bool { state.withLock { $0.entries[id] != nil } }

    /// Adds ids (a repeated id is refreshed) and drops what is expired or over the limit.
    func add(_ ids: some Sequence<String>, now: Double = Date().timeIntervalSince1970) {
        state.withLock { s in
            for id in ids {
                if s.entries[id] == nil { s.order.append(id) }
                s.entries[id] = now
            }
            purge(&s, now: now)
        }
    }

    /// The live ids, oldest first (what `inspect revoked` and `hello` replies list).
    func ids(now: Double = Date().timeIntervalSince1970) -> [String] {
        state.withLock { s in
            purge(&s, now: now)
            return s.order[s.head...].filter { s.entries[$0] != nil }
        }
    }

    var count: Int { state.withLock { $0.entries.count } }

    private func purge(_ s: inout State, now: Double) {
        while s.head < s.order.count {
            let id = s.order[s.head]
            guard let at = s.entries[id] else { s.head += 1; continue }
            if s.entries.count > limit || now - at > expiry {
                s.entries[id] = nil
                s.head += 1
            } else {
                break
            }
        }
        // Compact the order list once most of it is consumed, so memory stays bounded.
        if s.head > 1024 && s.head * 2 > s.order.count {
            s.order = Array(s.order[s.head...]).filter { s.entries[$0] != nil }
            s.head = 0
        }
    }

    /// Loads the state file if there is one; a missing file is an empty set, a broken one an error.
    func load() throws {
        guard let stateFile, FileManager.default.fileExists(atPath: stateFile) else { return }
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: stateFile)))
        guard case .object(let o) = try JSONParser.parse(bytes), case .array(let items)? = o["revoked"] else {
            throw WorkerError("state file \(stateFile) is not a Celeriac state file")
        }
        let now = Date().timeIntervalSince1970
        state.withLock { s in
            for item in items {
                guard case .array(let pair) = item, pair.count == 2, let id = pair[0].stringValue, let at = pair[1].doubleValue else { continue }
                guard now - at <= expiry else { continue }
                if s.entries[id] == nil { s.order.append(id) }
                s.entries[id] = at
            }
            purge(&s, now: now)
        }
    }

    /// Writes the state file atomically (write to a temp file, then rename).
    func save() throws {
        guard let stateFile else { return }
        let items: [JSONValue] = state.withLock { s in
            s.order[s.head...].compactMap { id in s.entries[id].map { .array([.string(id), .double($0)]) } }
        }
        let bytes = JSONValue.object(["revoked": .array(items)]).serialized()
        let tmp = stateFile + ".tmp"
        try Data(bytes).write(to: URL(fileURLWithPath: tmp))
        if rename(tmp, stateFile) != 0 { throw WorkerError("cannot write state file \(stateFile): errno \(errno)") }
    }
}
