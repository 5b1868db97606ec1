import Celeriac

/// Queue depths as last polled: total and per priority list, and how long the oldest message
/// has waited when the poller could tell.
enum QueuesLayout {
    static func body(model: ClusterState, view: ViewState, size: TerminalSize, now: Double) -> [Frame.Row] {
        let sampled = model.queuesUpdatedAt.map { "sampled \(Format.age(now - $0)) ago" } ?? "queue depths not polled yet"
        var rows = [Frame.Row([Frame.Span(sampled, .dim)])]
        let priorities = Array(Set(model.queues.flatMap { $0.depths.map(\.priority) })).sorted()
        var columns: [Table.Column] = [
            .init(title: "QUEUE", width: 20, priority: 10, flexible: true),
            .init(title: "TOTAL", width: 9, alignRight: true, priority: 10),
        ]
        for p in priorities { columns.append(.init(title: "PRI \(p)", width: 8, alignRight: true, priority: 5)) }
        columns.append(.init(title: "OLDEST WAIT", width: 11, alignRight: true, priority: 8))
        let table = Table(columns, width: size.columns)
        rows.append(table.header())
        let height = ScreenGeometry.listHeight(.queues, size)
        let pos = view.position(.queues).normalized(count: model.queues.count, height: height)
        for i in pos.top..<min(model.queues.count, pos.top + height) {
            let q = model.queues[i]
            var cells: [(String, Frame.Style)] = [(q.name, .normal), (Format.count(q.total), q.total > 0 ? .accent : .dim)]
            for p in priorities {
                let d = q.depths.first { $0.priority == p }?.depth
                cells.append((d.map(Format.count) ?? "-", .normal))
            }
            cells.append((q.oldestMessageAge.map(Format.age) ?? "-", .normal))
            rows.append(table.row(cells, selected: i == pos.selected))
        }
        return rows
    }
}
