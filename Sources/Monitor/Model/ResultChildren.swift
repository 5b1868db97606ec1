public import Celeriac

/// The `children` of a stored result (`celery-task-meta-<id>`), read as Celery writes them:
/// a list of result tuples, `[[id, parent], null]` for a task and
/// `[[group_id, parent], [member tuples…]]` for a group (Celery's `ResultBase.as_tuple`).
///
/// Anything else (the revoke handler's `null`, a hostile value) reads as no children. Nesting is
/// followed to a fixed depth, so a crafted value cannot recurse without end.
public enum ResultChildren {
    /// One child: a task, or a group with its members.
    public struct Child: Sendable, Hashable {
        /// The task's id.
        public var id: String
        /// The group this child task belongs to, when the parent listed it inside a group tuple.
        public var groupID: String?

        /// Creates a child.
        public init(id: String, groupID: String? = nil) {
            self.id = id
            self.groupID = groupID
        }
    }

    /// The child tasks listed in `children`, group members flattened in order, each with the id
    /// of the group that listed it.
    ///
    /// - Parameters:
    ///   - children: The stored `children` value.
    ///   - limit: Most children returned (the rest are counted in `total` only).
    /// - Returns: The first `limit` children and how many were listed in all.
    public static func parse(_ children: JSONValue, limit: Int = .max) -> (children: [Child], total: Int) {
        var out: [Child] = []
        var total = 0
        func visit(_ value: JSONValue, group: String?, depth: Int) {
            guard depth < 8, let items = value.arrayValue else { return }
            for item in items {
                guard let pair = item.arrayValue, pair.count == 2, let head = pair[0].arrayValue, let id = head.first?.stringValue
                else { continue }
                if let members = pair[1].arrayValue {
                    visit(.array(members), group: id, depth: depth + 1)
                } else {
                    total += 1
                    if out.count < limit { out.append(Child(id: id, groupID: group)) }
                }
            }
        }
        visit(children, group: nil, depth: 0)
        return (out, total)
    }
}
