/// A result as Celery's `as_tuple()` writes it: how a task's `children`, a saved `GroupResult`
/// and a chord's parent are stored.
///
/// - a task: `[[id, parent], null]`
/// - a group: `[[group_id, parent], [member, …]]`
///
/// where `parent` is the parent's tuple or `null`.
public indirect enum ResultTuple: Sendable, Hashable {
    case task(id: String, parent: ResultTuple?)
    case group(id: String, parent: ResultTuple?, members: [ResultTuple])

    public var id: String {
        switch self {
        case .task(let id, _), .group(let id, _, _): id
        }
    }

    /// The tuple as JSON.
    public var jsonValue: JSONValue {
        switch self {
        case .task(let id, let parent):
            return .array([.array([.string(id), parent?.jsonValue ?? .null]), .null])
        case .group(let id, let parent, let members):
            return .array([.array([.string(id), parent?.jsonValue ?? .null]), .array(members.map(\.jsonValue))])
        }
    }

    /// Reads a tuple (Celery's `result_from_tuple`); `nil` when it is not one.
    public init?(json: JSONValue) {
        guard case .array(let pair) = json, pair.count == 2, case .array(let head) = pair[0], head.count == 2,
              let id = head[0].stringValue
        else { return nil }
        let parent = head[1].isNull ? nil : ResultTuple(json: head[1])
        switch pair[1] {
        case .null: self = .task(id: id, parent: parent)
        case .array(let items):
            var members: [ResultTuple] = []
            for item in items {
                guard let member = ResultTuple(json: item) else { return nil }
                members.append(member)
            }
            self = .group(id: id, parent: parent, members: members)
        default: return nil
        }
    }
}
