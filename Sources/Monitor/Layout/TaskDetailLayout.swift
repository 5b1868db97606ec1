import Celeriac

/// One task, everything known: fields, every state time, arguments, result, exception and
/// traceback (wrapped; as held, with a note above each one the model cut at
/// `--max-field-bytes` saying where the full value is), the event timeline and retry links.
/// Scrolls.
enum TaskDetailLayout {
    static let labelWidth = 13

    /// All lines of the detail at `width` columns (the screen shows a window of them).
    static func lines(for r: TaskRecord, model: ClusterState, width: Int) -> [Frame.Row] {
        content(for: r, model: model, width: width, selectedLink: nil).rows
    }

    /// The detail's lines, and the line of each of its ``TaskLinks`` (in link order), with the
    /// selected link highlighted.
    static func content(
        for r: TaskRecord, model: ClusterState, width: Int, selectedLink: Int?
    ) -> (rows: [Frame.Row], linkRows: [Int]) {
        let links = TaskLinks(of: r, in: model)
        var linkRows: [Int] = []
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
        if r.rootID == r.uuid { field("Root", "(itself)") }
        field("Group", links.groupID)
        field("ETA", r.eta)
        field("Expires", r.expires)
        field("Runtime", r.runtime.map { Format.duration($0) })

        if !links.links.isEmpty {
            section("Workflow (j/k select, Enter opens, W shows the tree)")
            for (k, link) in links.links.enumerated() {
                linkRows.append(out.count)
                let target = model.tasks[link.id]
                let text = "\(link.id)  \(target?.name ?? "")  \(target?.state.rawValue ?? "(not held)")"
                let selected = k == selectedLink
                out.append(Frame.Row([
                    Frame.Span(DisplayWidth.fit(link.role.rawValue, to: labelWidth), selected ? .selected : .bold),
                    Frame.Span(DisplayWidth.fit(DisplayWidth.sanitize(text), to: valueWidth), selected ? .selected : .accent),
                ]))
            }
            if links.more > 0 { field("", "… \(links.more) more not listed", .dim) }
        }

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

        /// The note goes above the text it is about, so it shows without scrolling past 16 KiB.
        func noteIfTruncated(_ f: TaskRecord.TextField, label: String) {
            guard let note = Self.truncationNote(for: r, f) else { return }
            field(label, note, .warning)
        }
        section("Arguments")
        noteIfTruncated(.args, label: "Args")
        field(r.originalByteCount(of: .args) == nil ? "Args" : "", r.args ?? "(unknown)")
        noteIfTruncated(.kwargs, label: "Kwargs")
        field(r.originalByteCount(of: .kwargs) == nil ? "Kwargs" : "", r.kwargs ?? "(unknown)")
        if let result = r.result {
            noteIfTruncated(.result, label: "Result")
            field(r.originalByteCount(of: .result) == nil ? "Result" : "", result, .success)
        }
        if let e = r.exception {
            noteIfTruncated(.exception, label: "Exception")
            field(r.originalByteCount(of: .exception) == nil ? "Exception" : "", e, .failure)
        }
        if let tb = r.traceback {
            section("Traceback")
            if let note = Self.truncationNote(for: r, .traceback) {
                for line in DisplayWidth.wrap(note, width: max(10, width - 2)) {
                    out.append(Frame.Row([Frame.Span("  " + line, .warning)]))
                }
            }
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
        return (out, linkRows)
    }

    /// What the detail says under a text the model holds only the start of: how much is shown
    /// and where the whole value is kept. `nil` when the text is held in full.
    ///
    /// Results, exceptions and tracebacks are in the result backend under the task's key
    /// (`celery-task-meta-<id>`, a day by default). A failed task's arguments are in the
    /// failed-task store when a Celeriac worker ran it (``Celeriac/FailedTaskStore``, 7 days),
    /// otherwise in the result backend only with `result_extended`.
    static func truncationNote(for r: TaskRecord, _ field: TaskRecord.TextField) -> String? {
        guard let total = r.originalByteCount(of: field) else { return nil }
        let shown: Int
        let place: String
        switch field {
        case .args, .kwargs:
            shown = (field == .args ? r.args : r.kwargs)?.utf8.count ?? 0
            place = r.state == .failure
                ? "full value in the failed-task store (\(FailedTaskStore.messageKey(taskID: r.uuid)), Celeriac workers) or the result backend (celery-task-meta-\(r.uuid), with result_extended)"
                : "full value in the result backend (celery-task-meta-\(r.uuid), with result_extended)"
        case .result, .exception, .traceback:
            shown = (field == .result ? r.result : field == .exception ? r.exception : r.traceback)?.utf8.count ?? 0
            place = "full value in the result backend (celery-task-meta-\(r.uuid))"
        }
        return "truncated: \(Format.count(shown)) of \(Format.count(total)) bytes shown; \(place)"
    }

    static func body(id: String, model: ClusterState, view: ViewState, size: TerminalSize) -> [Frame.Row] {
        guard let r = model.tasks[id] else {
            return [Frame.Row([Frame.Span("task \(id) is no longer held (the oldest tasks are dropped beyond --max-tasks or --max-task-memory)", .warning)])]
        }
        let all = content(for: r, model: model, width: size.columns, selectedLink: view.position(.detail).selected).rows
        let height = ScreenGeometry.listHeight(.detail, size)
        let top = min(max(0, view.position(.detail).top), max(0, all.count - height))
        return Array(all[top..<min(all.count, top + height)])
    }
}
