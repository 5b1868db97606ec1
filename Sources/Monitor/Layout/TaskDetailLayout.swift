import Celeriac

/// One task, everything known: fields, every state time, full arguments, result, exception
/// and traceback (wrapped, never truncated), the event timeline and retry links. Scrolls.
enum TaskDetailLayout {
    static let labelWidth = 13

    /// All lines of the detail at `width` columns (the screen shows a window of them).
    static func lines(for r: TaskRecord, model: ClusterState, width: Int) -> [Frame.Row] {
        let offset = model.configuration.localUTCOffset
        var out: [Frame.Row] = []
        let valueWidth = max(10, width - labelWidth)
        func field(_ label: String, _ value: String?, _ style: Frame.Style = .normal, wrap: Bool = true) {
            guard let value, !value.isEmpty else { return }
            let pieces = wrap ? DisplayWidth.wrap(value, width: valueWidth) : [DisplayWidth.sanitize(value)]
            for (k, piece) in pieces.enumerated() {
                out.append(Frame.Row([
                    Frame.Span(DisplayWidth.fit(k == 0 ? label : "", to: labelWidth), .bold), Frame.Span(piece, style),
                ]))
            }
        }
        func section(_ title: String) {
            out.append(Frame.Row())
            out.append(Frame.Row([Frame.Span(title, .header)], fill: nil))
        }

        field("Task", r.name ?? "(name unknown: no task-sent or task-received seen)", .bold)
        field("ID", r.uuid)
        var state = r.state.rawValue
        if r.state == .revoked || r.state == .rejected || r.state == .failure || r.state == .retry {
            let i = TasksLayout.info(r)
            if !i.isEmpty, r.state == .revoked || r.state == .rejected { state += " — " + i }
        }
        field("State", state, TasksLayout.stateStyle(r.state))
        field("Worker", r.worker)
        field("Client", r.client)
        var route = r.queue ?? ""
        if let e = r.exchange { route += "  exchange '\(e)'" }
        if let k = r.routingKey { route += "  routing key '\(k)'" }
        field("Queue", route.isEmpty ? nil : route)
        field("Retries", r.retries.map(String.init))
        field("Root", r.rootID == r.uuid ? "(itself)" : r.rootID)
        field("Parent", r.parentID)
        field("Retry of", r.retryOf.map { "\($0)  (Enter opens)" }, .accent)
        field("Retried as", r.retriedAs.map { "\($0)  (Enter opens)" }, .accent)
        field("ETA", r.eta)
        field("Expires", r.expires)
        field("Runtime", r.runtime.map { Format.duration($0) })

        section("Times")
        let first = [r.sentAt, r.receivedAt, r.startedAt].compactMap { $0 }.min()
        let times: [(String, Double?)] = [
            ("Sent", r.sentAt), ("Received", r.receivedAt), ("Started", r.startedAt), ("Succeeded", r.succeededAt),
            ("Failed", r.failedAt), ("Retried", r.retriedAt), ("Revoked", r.revokedAt), ("Rejected", r.rejectedAt),
        ]
        for (label, t) in times {
            guard let t else { continue }
            let rel = first.map { t >= $0 ? "  (+\(Format.duration(t - $0)))" : "" } ?? ""
            field(label, Format.clock(t, utcOffset: offset) + rel)
        }

        section("Arguments")
        field("Args", r.args ?? "(unknown)")
        field("Kwargs", r.kwargs ?? "(unknown)")
        if let result = r.result { field("Result", result, .success) }
        if let e = r.exception { field("Exception", e, .failure) }
        if let tb = r.traceback {
            section("Traceback")
            for line in DisplayWidth.wrap(tb, width: max(10, width - 2)) {
                out.append(Frame.Row([Frame.Span("  " + line, .normal)]))
            }
        }

        section("Timeline (events, oldest first)")
        for e in r.timeline {
            let when = e.timestamp.map { Format.clock($0, utcOffset: offset) } ?? "(no timestamp)          "
            out.append(Frame.Row([
                Frame.Span("  " + when + "  ", .dim), Frame.Span(DisplayWidth.fit(e.kind.description, to: 14)),
                Frame.Span(" " + DisplayWidth.sanitize(e.hostname ?? ""), .dim),
            ]))
        }
        return out
    }

    static func body(id: String, model: ClusterState, view: ViewState, size: TerminalSize) -> [Frame.Row] {
        guard let r = model.tasks[id] else {
            return [Frame.Row([Frame.Span("task \(id) is no longer held (the oldest tasks are dropped beyond --max-tasks)", .warning)])]
        }
        let all = lines(for: r, model: model, width: size.columns)
        let height = ScreenGeometry.listHeight(.detail, size)
        let top = min(max(0, view.position(.detail).top), max(0, all.count - height))
        return Array(all[top..<min(all.count, top + height)])
    }
}
