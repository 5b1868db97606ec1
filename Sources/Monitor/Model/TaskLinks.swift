/// The tasks a task's detail links to: retry links, its parent and root, its group's other
/// members, the chord body its group completed (or, for a body, its header's members), and its
/// children. Each can be opened from the detail.
///
/// From what the model holds: `parent_id`/`root_id` from events, group ids and children from
/// stored results (``ClusterState/noteResults(_:requested:)``), children also from the held
/// tasks whose `parent_id` is this task. Bounded: at most ``maxPerKind`` members and children
/// are listed (the rest are counted in ``more``).
public struct TaskLinks: Sendable, Hashable {
    /// One link.
    public struct Link: Sendable, Hashable {
        /// What the linked task is to this one.
        public enum Role: String, Sendable, Hashable {
            case retriedAs = "Retried as"
            case retryOf = "Retry of"
            case parent = "Parent"
            case root = "Root"
            case groupMember = "Group member"
            case chordBody = "Chord body"
            case chordHeader = "Chord header"
            case child = "Child"
        }
        /// The role.
        public var role: Role
        /// The linked task's id.
        public var id: String
    }

    /// Most group members and most children listed.
    public static let maxPerKind = 50

    /// The links, in display order.
    public let links: [Link]
    /// The group id, when known.
    public let groupID: String?
    /// Members and children that were not listed (beyond ``maxPerKind``).
    public let more: Int

    /// The links of `record`.
    ///
    /// - Parameters:
    ///   - record: The task shown.
    ///   - model: The model (scanned once for group members and children).
    public init(of record: TaskRecord, in model: ClusterState) {
        var links: [Link] = []
        let id = record.uuid
        if let x = record.retriedAs { links.append(Link(role: .retriedAs, id: x)) }
        if let x = record.retryOf { links.append(Link(role: .retryOf, id: x)) }
        if let p = record.parentID, p != id { links.append(Link(role: .parent, id: p)) }
        if let root = record.rootID, root != id, root != record.parentID { links.append(Link(role: .root, id: root)) }
        groupID = record.groupID
        var members: [String] = []
        var children: [String] = record.childIDs
        var listed = Set(children)
        var extra = max(0, record.childCount - record.childIDs.count)
        var bodies: [String] = []
        for r in model.tasks.oldestFirst where r.uuid != id {
            if let g = record.groupID, r.groupID == g {
                // A chord body has its header's group id and a member as parent.
                if r.parentID.flatMap({ model.tasks[$0]?.groupID }) == g { bodies.append(r.uuid) } else { members.append(r.uuid) }
            }
            if r.parentID == id, listed.insert(r.uuid).inserted { children.append(r.uuid) }
        }
        let selfIsBody = record.groupID != nil && record.parentID.flatMap { model.tasks[$0]?.groupID } == record.groupID
        links += bodies.map { Link(role: .chordBody, id: $0) }
        extra += max(0, members.count - Self.maxPerKind) + max(0, children.count - Self.maxPerKind)
        let memberRole: Link.Role = selfIsBody ? .chordHeader : .groupMember
        links += members.prefix(Self.maxPerKind).map { Link(role: memberRole, id: $0) }
        // The body is also the child of the member that completed the header: listed once, as the body.
        links += children.prefix(Self.maxPerKind).filter { !bodies.contains($0) }.map { Link(role: .child, id: $0) }
        self.links = links
        more = extra
    }
}
