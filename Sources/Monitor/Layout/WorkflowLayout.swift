import Celeriac

/// The workflow screen: the tree of the workflow a task belongs to (``WorkflowTree``), one row
/// per task with its state in colour, run time, worker and age, updated as events arrive. Group
/// nodes say how many members they have and how many finished; a child that a stored result
/// lists but qmon does not hold says so. Enter opens the selected task's detail.
enum WorkflowLayout {
    static func body(model: ClusterState, view: ViewState, size: TerminalSize, now: Double) -> [Frame.Row] {
        guard let tree = view.currentWorkflow(model: model) else { return [] }
        let tasks = tree.taskIDs.compactMap { model.tasks[$0] }
        let done = tasks.filter(\.isReady).count
        let failed = tasks.filter { $0.state == .failure }.count
        var summary = [
            Frame.Span("workflow of \(tree.startID)  ", .bold),
            Frame.Span("\(tasks.count) task\(tasks.count == 1 ? "" : "s"), \(done) finished", .normal),
        ]
        if failed > 0 { summary.append(Frame.Span(", \(failed) failed", .failure)) }
        if tree.isTruncated { summary.append(Frame.Span("  (first \(WorkflowTree.maxNodes) nodes)", .warning)) }
        let table = Table([
            .init(title: "TASK", width: 30, priority: 10, flexible: true),
            .init(title: "ID", width: 8, priority: 8),
            .init(title: "STATE", width: 8, priority: 10),
            .init(title: "RUNTIME", width: 7, alignRight: true, priority: 7),
            .init(title: "WORKER", width: 14, priority: 6),
            .init(title: "INFO", width: 14, priority: 5, flexible: true),
            .init(title: "AGE", width: 6, alignRight: true, priority: 4),
        ], width: size.columns)
        var rows = [Frame.Row(summary), table.header()]
        let height = ScreenGeometry.listHeight(.workflow, size)
        let pos = view.position(.workflow).normalized(count: tree.rows.count, height: height)
        for i in pos.top..<min(tree.rows.count, pos.top + height) {
            let row = tree.rows[i]
            let selected = i == pos.selected
            switch row.node {
            case .task(let id):
                guard let r = model.tasks[id] else { continue }
                let style = TasksLayout.stateStyle(r.state)
                var info = TasksLayout.info(r)
                if let g = r.groupID {
                    // A chord body carries its header's group id; its parent is a member.
                    if r.parentID.flatMap({ model.tasks[$0]?.groupID }) == g {
                        info = "chord body " + info
                    } else if !(tree.rows.contains { $0.node == .group(g) }) {
                        info = "group \(g.prefix(8)) " + info
                    }
                }
                let when = r.stateTimestamp ?? r.lastEventReceivedAt
                rows.append(table.row([
                    (row.prefix + (r.name ?? "?") + (r.args.map { " " + $0 } ?? ""), .normal),
                    (id, .dim),
                    (r.state.rawValue, style),
                    (Format.duration(r.runtime), .normal),
                    (r.worker ?? "-", .dim),
                    (info, r.state == .success ? .dim : style),
                    (Format.age(now - when), .dim),
                ], selected: selected))
            case .group(let g):
                let kids = children(of: i, in: tree)
                let finished = kids.filter { model.tasks[$0]?.isReady == true }.count
                rows.append(table.row([
                    (row.prefix + "group (\(kids.count) members, \(finished) finished)", .accent),
                    (g, .dim), ("", .normal), ("", .normal), ("", .normal), ("", .normal), ("", .normal),
                ], selected: selected))
            case .missing(let id):
                rows.append(table.row([
                    (row.prefix + "(not held: no event seen)", .dim), (id, .dim), ("?", .dim),
                    ("", .normal), ("", .normal), ("", .normal), ("", .normal),
                ], selected: selected))
            }
        }
        return rows
    }

    /// The ids of the nodes directly under row `index`.
    static func children(of index: Int, in tree: WorkflowTree) -> [String] {
        let depth = tree.rows[index].depth
        var out: [String] = []
        var i = index + 1
        while i < tree.rows.count, tree.rows[i].depth > depth {
            if tree.rows[i].depth == depth + 1 { out.append(tree.rows[i].node.id) }
            i += 1
        }
        return out
    }
}
