/// The workflow a task belongs to, as a tree of rows to display: every task qmon holds that is
/// linked to it, each under the task that started it.
///
/// Built from what the model holds, without I/O: `parent_id` and `root_id` from task events,
/// ``TaskRecord/groupID`` and ``TaskRecord/childIDs`` from stored results
/// (``ClusterState/noteResults(_:requested:)``). The tasks of one workflow are those connected
/// to the start task by any of these links. Each is placed under its parent (`parent_id`, or
/// the task whose result lists it as a child); one without a known parent goes under a group
/// node when its group is known, else at the top. So a chain `a | b | c` is a path (each step's
/// parent is the previous one), a group or chord header started by a task are siblings under
/// it, a group sent by a client is a group node with its members, and a chord body is under
/// the member that completed the header (the body's `parent_id`). A child a result lists but
/// qmon does not hold shows as a missing node.
///
/// Bounded: at most ``maxNodes`` nodes are collected (``isTruncated`` says when more were
/// linked). Building it reads every held record once (the linked ones are indexed on the way),
/// so the view computes it when the model changed, not per key.
public struct WorkflowTree: Sendable, Hashable {
    /// What a row stands for.
    public enum Node: Sendable, Hashable {
        /// A held task, by id.
        case task(String)
        /// A group whose members have no known parent, by group id.
        case group(String)
        /// A child listed in a stored result whose task qmon does not hold.
        case missing(String)

        /// The task or group id.
        public var id: String {
            switch self {
            case .task(let id), .group(let id), .missing(let id): id
            }
        }
    }

    /// One line of the tree.
    public struct Row: Sendable, Hashable {
        /// The node.
        public var node: Node
        /// Nesting depth, 0 at the top.
        public var depth: Int
        /// The tree drawing before the node (`├─ `, `│  └─ `…).
        public var prefix: String
    }

    /// Most nodes collected.
    public static let maxNodes = 2_000

    /// The task the tree was built around.
    public let startID: String
    /// The rows, depth first, siblings in the order qmon first saw them.
    public let rows: [Row]
    /// Whether the workflow had more than ``maxNodes`` linked nodes.
    public let isTruncated: Bool

    /// The held tasks of the tree, in row order.
    public var taskIDs: [String] { rows.compactMap { if case .task(let id) = $0.node { id } else { nil } } }

    /// Builds the tree of the workflow `id` belongs to.
    ///
    /// - Parameters:
    ///   - id: Any task of the workflow (need not be held: then the tree is that one missing node).
    ///   - model: The model.
    ///   - maxNodes: Most nodes collected.
    public init(around id: String, in model: ClusterState, maxNodes: Int = Self.maxNodes) {
        startID = id
        let store = model.tasks
        // Index the linked records once: a task with no parent, no other root, no group and no
        // children is alone in its workflow and never needed here.
        var order: [String: Int] = [:]
        var byParent: [String: [String]] = [:]
        var byRoot: [String: [String]] = [:]
        var byGroup: [String: [String]] = [:]
        var seq = 0
        for r in store.oldestFirst {
            seq += 1
            let rooted = r.rootID.map { $0 != r.uuid } ?? false
            guard r.parentID != nil || rooted || r.groupID != nil || !r.childIDs.isEmpty else { continue }
            order[r.uuid] = seq
            if let p = r.parentID { byParent[p, default: []].append(r.uuid) }
            if rooted, let root = r.rootID { byRoot[root, default: []].append(r.uuid) }
            if let g = r.groupID { byGroup[g, default: []].append(r.uuid) }
        }

        // Everything connected to the start task, breadth first.
        var members: [String] = [id]
        var inTree: Set<String> = [id]
        var truncated = false
        var next = 0
        while next < members.count {
            let current = members[next]
            next += 1
            var linked: [String] = byParent[current, default: []] + byRoot[current, default: []]
            if let r = store[current] {
                if let p = r.parentID { linked.append(p) }
                if let root = r.rootID, root != current { linked.append(root) }
                if let g = r.groupID { linked += byGroup[g, default: []] }
                linked += r.childIDs
            }
            for other in linked where !inTree.contains(other) {
                guard members.count < maxNodes else {
                    truncated = true
                    break
                }
                inTree.insert(other)
                members.append(other)
            }
        }
        isTruncated = truncated

        // Place each node under its parent, or its group, or at the top.
        var children: [Node: [Node]] = [:]
        var tops: [Node] = []
        var listedBy: [String: String] = [:]
        for m in members {
            for c in store[m]?.childIDs ?? [] where listedBy[c] == nil { listedBy[c] = m }
        }
        var groupsPlaced: Set<String> = []
        func node(_ m: String) -> Node { store.contains(m) ? .task(m) : .missing(m) }
        for m in members {
            let r = store[m]
            if let p = r?.parentID, p != m, inTree.contains(p) {
                children[node(p), default: []].append(node(m))
            } else if let p = listedBy[m], p != m {
                children[node(p), default: []].append(node(m))
            } else if let root = r?.rootID, root != m, inTree.contains(root) {
                children[node(root), default: []].append(node(m))
            } else if let g = r?.groupID {
                if groupsPlaced.insert(g).inserted { tops.append(.group(g)) }
                children[.group(g), default: []].append(node(m))
            } else {
                tops.append(node(m))
            }
        }
        // First seen first; missing nodes (never seen) after the rest, in listed order.
        func rank(_ n: Node) -> Int {
            switch n {
            case .task(let id): order[id] ?? store.position(of: id).map { $0 + 1 } ?? Int.max
            case .missing: Int.max
            case .group(let g): (children[.group(g)] ?? []).map(rank).min() ?? Int.max
            }
        }
        func sorted(_ nodes: [Node]) -> [Node] {
            nodes.enumerated().sorted { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }.map(\.element)
        }

        var rows: [Row] = []
        var drawn: Set<Node> = []
        func walk(_ n: Node, depth: Int, lead: String, isLast: Bool) {
            // A node reached twice (a cycle in hostile data) is drawn once.
            guard drawn.insert(n).inserted else { return }
            let branch = depth == 0 ? "" : lead + (isLast ? "└─ " : "├─ ")
            rows.append(Row(node: n, depth: depth, prefix: branch))
            let kids = sorted(children[n] ?? [])
            let childLead = depth == 0 ? "" : lead + (isLast ? "   " : "│  ")
            for (k, c) in kids.enumerated() { walk(c, depth: depth + 1, lead: childLead, isLast: k == kids.count - 1) }
        }
        for t in sorted(tops) { walk(t, depth: 0, lead: "", isLast: true) }
        // Nodes only reachable through a cycle (no top above them) still show, at the top.
        for m in members where !drawn.contains(node(m)) { walk(node(m), depth: 0, lead: "", isLast: true) }
        self.rows = rows
    }
}
