/// The pure half of Celery 5.7's chord join on the Redis result backend: the keys, the entry a
/// header member records, the settings' arithmetic, and what the recorded entries decide.
///
/// The Redis half (``ChordScripts`` run by the broker driver) records each member once, counts
/// and claims the join; the worker that gets the claim reads the entries and calls
/// ``decide(entries:)``: publish the body with the results in header order, or fail it with
/// Celery's `ChordError`.
public enum ChordJoin {
    /// The keys of group `groupID`: `celery-taskset-meta-<gid>` and its suffixes.
    public struct Keys: Sendable, Hashable {
        public let group: String
        public init(groupID: String) { group = "celery-taskset-meta-" + groupID }
        /// The recorded parts (a sorted set by `group_index`, or a list when unordered).
        public var parts: String { group + ".j" }
        /// Parts added at run time (`add_to_chord`).
        public var added: String { group + ".t" }
        /// The header's size.
        public var size: String { group + ".s" }
        /// `tid:group_index` of every recorded part (counted once).
        public var seen: String { group + ".d" }
        /// The join's claim token, then `done`.
        public var claim: String { group + ".c" }
    }

    /// How a chord joins, from Celery's settings.
    public struct Settings: Sendable, Hashable {
        /// `result_backend_transport_options['result_chord_ordered']` (default on): parts in a
        /// sorted set by header index, so the body gets results in header order.
        public var ordered: Bool
        /// `result_chord_expires` (else `result_expires`): the parts' keys' TTL; 0 keeps them.
        public var expires: Int
        /// `result_expires`, for the group key's TTL.
        public var resultExpires: Int
        /// `result_chord_join_timeout` (3.0 s).
        public var joinTimeout: Double

        public init(ordered: Bool = true, expires: Int = 86_400, resultExpires: Int = 86_400, joinTimeout: Double = 3.0) {
            self.ordered = ordered
            self.expires = expires
            self.resultExpires = resultExpires
            self.joinTimeout = joinTimeout
        }

        /// Seconds the first claim lasts: `max(5, int(join_timeout * 2))`, 6 by default.
        public var claimExpires: Int {
            let doubled = (joinTimeout > 0 ? joinTimeout : 5.0) * 2
            return max(5, doubled.isFinite && doubled < 1e9 ? Int(doubled) : 1_000_000_000)
        }

        /// How long `.c = done` keeps late duplicates out: `max(claim * 2, 300)`.
        public var doneExpires: Int { max(claimExpires * 2, 300) }

        /// The group key's TTL: `max(chord, result)` expiry, 0 when either keeps results.
        public var groupExpires: Int { expires == 0 || resultExpires == 0 ? 0 : max(expires, resultExpires) }

        /// The claim while the body is published, with Celery's default publish retry policy
        /// (3 retries, 0.2 s steps up to 1 s, a 4 s connection timeout): `ceil(4*4 + 0.6 + 4)` = 21.
        public var publishClaimExpires: Int { max(claimExpires, 21) }
    }

    /// The `.j` entry of one part: `[1, tid, state, result]`, as Python's `json.dumps` writes it;
    /// a failure's result is its exception dict.
    public static func entry(taskID: String, state: TaskState, result: JSONValue) -> [UInt8] {
        JSONValue.array([.int(1), .string(taskID), .string(state.rawValue), result]).serialized()
    }

    /// What the recorded parts decide.
    public enum Outcome: Sendable, Hashable {
        /// Every part succeeded: the body gets these results, in header order.
        case complete([JSONValue])
        /// A part failed (the first in header order), or the parts could not be read: the body
        /// fails with `ChordError(message)`.
        case failed(message: String)
    }

    /// Celery's `_unpack_chord_result` over every entry: the first FAILURE or REVOKED part fails
    /// the chord with `Dependency <tid> raised <repr(exc)>`.
    public static func decide(entries: [[UInt8]]) -> Outcome {
        var results: [JSONValue] = []
        results.reserveCapacity(entries.count)
        for bytes in entries {
            guard case .array(let tuple)? = try? JSONParser.parse(bytes), tuple.count == 4,
                  let taskID = tuple[1].stringValue, let state = tuple[2].stringValue
            else {
                return .failed(message: "Join error: ValueError('undecodable chord part: \(String(decoding: bytes.prefix(120), as: UTF8.self))')")
            }
            if state == TaskState.failure.rawValue || state == TaskState.revoked.rawValue {
                let exception = ExceptionInfo(json: tuple[3]) ?? ExceptionInfo(type: "Exception", message: [tuple[3]])
                return .failed(message: "Dependency \(taskID) raised \(exception.summary)")
            }
            results.append(tuple[3])
        }
        return .complete(results)
    }

    /// `ChordError(message)` as it is stored for the body.
    public static func chordError(_ message: String) -> ExceptionInfo {
        ExceptionInfo(type: "ChordError", message: message, module: "celery.exceptions")
    }
}

/// What recording one part told: the part-return script's reply.
public struct ChordPartCount: Sendable, Hashable {
    /// Parts recorded so far; -1 when the chord was already joined (`.c = done`).
    public var ready: Int
    /// Parts added at run time.
    public var added: Int
    /// The header's size, when set.
    public var size: Int?
    /// This worker holds the join's claim.
    public var claimed: Bool

    public init(ready: Int, added: Int, size: Int?, claimed: Bool) {
        self.ready = ready
        self.added = added
        self.size = size
        self.claimed = claimed
    }

    /// Whether this part completed the chord and this worker is to join it.
    public var joins: Bool {
        guard let size, ready >= 0 else { return false }
        return claimed && ready == size.addingReportingOverflow(added).partialValue
    }
}

/// One header member's part, for ``BrokerDriver/recordChordPart(_:)``.
public struct ChordPart: Sendable, Hashable {
    public var groupID: String
    public var taskID: String
    /// The member's `group_index`; `nil` scores `+inf`.
    public var groupIndex: Int?
    /// ``ChordJoin/entry(taskID:state:result:)``.
    public var entry: [UInt8]
    public var settings: ChordJoin.Settings
    /// A fresh token for this attempt's claim.
    public var claimToken: String

    public init(groupID: String, taskID: String, groupIndex: Int?, entry: [UInt8], settings: ChordJoin.Settings, claimToken: String) {
        self.groupID = groupID
        self.taskID = taskID
        self.groupIndex = groupIndex
        self.entry = entry
        self.settings = settings
        self.claimToken = claimToken
    }

    /// The score (and the `.d` member suffix): the index, or `+inf`.
    public var score: String { groupIndex.map(String.init) ?? "+inf" }
}
