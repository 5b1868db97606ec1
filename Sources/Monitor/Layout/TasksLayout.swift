import Celeriac

/// The task list: filter bar, then one row per task with its state in colour. Revoked tasks
/// say how (terminated with which signal, expired); failures show the exception; successes
/// the result. Only the visible rows are laid out, from the cached ``TaskListing``.
enum TasksLayout {
    static func stateStyle(_ s: TaskState) -> Frame.Style {
        switch s {
        case .success: .success
        case .failure, .rejected: .failure
        case .retry: .warning
        case .revoked: .revoked
        case .started: .accent
        case .pending, .received: .normal
        }
    }

    /// What the INFO column says: how a revoke happened, the exception, or the result.
    static func info(_ r: TaskRecord) -> String {
        switch r.state {
        case .revoked:
            if r.expired == true { return "expired" }
            if r.terminated == true { return "terminated" + (Format.signalName(r.signum).map { " (\($0))" } ?? "") }
            return "revoked"
        case .failure, .retry: return r.exception ?? ""
        case .rejected: return r.requeue == true ? "rejected, requeued" : "rejected"
        case .success: return r.result.map { "→ " + $0 } ?? ""
        default: return r.retryOf.map { "retry of \($0)" } ?? ""
        }
    }

    static func filterBar(view: ViewState, shown: Int, total: Int) -> Frame.Row {
        let q = view.query
        var spans: [Frame.Span] = []
        func part(_ label: String, _ value: String?) {
            spans.append(Frame.Span(label + " ", .dim))
            spans.append(Frame.Span((value.map(DisplayWidth.sanitize) ?? "all") + "  ", value == nil ? .normal : .accent))
        }
        part("state", q.state?.rawValue)
        part("name", q.name)
        part("worker", q.worker)
        if !q.search.isEmpty || view.isSearching { part("search", "'\(q.search)'") }
        part("sort", q.sort.rawValue)
        spans.append(Frame.Span("\(Format.count(shown)) of \(Format.count(total)) tasks", .bold))
        if !view.marked.isEmpty { spans.append(Frame.Span("  \(Format.count(view.marked.count)) marked", .warning)) }
        return Frame.Row(spans)
    }

    static func body(model: ClusterState, view: ViewState, size: TerminalSize, now: Double) -> [Frame.Row] {
        let listing = view.currentListing(model: model)
        let count = listing.count(in: model)
        let wideIDs = size.columns >= 150
        let table = Table([
            .init(title: " ", width: 1, priority: 10),
            .init(title: "STATE", width: 8, priority: 10),
            .init(title: "NAME", width: 16, priority: 9, flexible: true),
            .init(title: "ID", width: wideIDs ? 36 : 8, priority: 8),
            .init(title: "ARGS", width: 12, priority: 7, flexible: true),
            .init(title: "INFO", width: 14, priority: 8, flexible: true),
            .init(title: "WORKER", width: 14, priority: 4),
            .init(title: "RUNTIME", width: 7, alignRight: true, priority: 5),
            .init(title: "AGE", width: 6, alignRight: true, priority: 7),
        ], width: size.columns)
        var rows = [filterBar(view: view, shown: count, total: model.tasks.count), table.header()]
        let height = ScreenGeometry.listHeight(.tasks, size)
        let pos = view.position(.tasks).normalized(count: count, height: height)
        if count == 0 {
            rows.append(Frame.Row([Frame.Span(
                model.tasks.isEmpty ? "no tasks yet" : "no task matches (c clears filters and search)", .dim)]))
        }
        for i in pos.top..<min(count, pos.top + height) {
            guard let r = listing.record(at: i, in: model) else { continue }
            let stateStyle = stateStyle(r.state)
            let when = r.stateTimestamp ?? r.lastEventReceivedAt
            rows.append(table.row([
                (view.marked.contains(r.uuid) ? "●" : " ", .warning),
                (r.state.rawValue, stateStyle),
                (r.name ?? "?", .normal),
                (r.uuid, .dim),
                ([r.args, r.kwargs.flatMap { $0 == "{}" ? nil : $0 }].compactMap { $0 }.joined(separator: " "), .normal),
                (info(r), r.state == .success ? .dim : stateStyle),
                (r.worker ?? "-", .dim),
                (Format.duration(r.runtime), .normal),
                (Format.age(now - when), .dim),
            ], selected: i == pos.selected))
        }
        return rows
    }
}
