import Celeriac

/// Failures grouped by task name and exception type, most recent first, with counts, and the
/// selected group's latest traceback underneath, so a failure is found in one look, not by
/// scrolling through every task.
enum FailuresLayout {
    /// The most telling line of a traceback: its last non-empty line (`ValueError: boom`).
    static func lastLine(_ text: String?) -> String? {
        text?.split(separator: "\n").last(where: { !$0.allSatisfy(\.isWhitespace) }).map(String.init)
    }

    static func body(model: ClusterState, view: ViewState, size: TerminalSize, now: Double) -> [Frame.Row] {
        let table = Table([
            .init(title: "COUNT", width: 6, alignRight: true, priority: 10),
            .init(title: "TASK", width: 18, priority: 10, flexible: true),
            .init(title: "EXCEPTION", width: 16, priority: 9),
            .init(title: "LAST SEEN", width: 9, alignRight: true, priority: 8),
            .init(title: "LATEST", width: 20, priority: 6, flexible: true),
        ], width: size.columns)
        var rows = [table.header()]
        let groups = ViewState.failureGroups(model)
        let height = ScreenGeometry.listHeight(.failures, size)
        let pos = view.position(.failures).normalized(count: groups.count, height: height)
        if groups.isEmpty { rows.append(Frame.Row([Frame.Span("no failures seen", .success)])) }
        for i in pos.top..<min(groups.count, pos.top + height) {
            let g = groups[i]
            rows.append(table.row([
                (Format.count(g.count), .failure),
                (g.key.taskName ?? "(unknown name)", .normal),
                (g.key.exceptionType, .failure),
                (Format.age(now - g.lastSeen), .dim),
                (lastLine(g.latestTraceback) ?? g.latestException, .normal),
            ], selected: i == pos.selected))
        }
        let preview = ScreenGeometry.failurePreviewHeight(size)
        guard preview > 0, !groups.isEmpty else { return rows }
        while rows.count < 1 + height { rows.append(Frame.Row()) }
        let g = groups[pos.selected]
        rows.append(Frame.Row([
            Frame.Span("latest: task \(g.latestTaskID) — \(g.latestException)  (Enter opens, R retries)", .header),
        ], fill: .header))
        let tb = DisplayWidth.wrap(g.latestTraceback ?? "(no traceback sent)", width: size.columns - 2)
        for line in tb.suffix(preview - 1) { rows.append(Frame.Row([Frame.Span("  " + line, .dim)])) }
        return rows
    }
}
