import Celeriac

/// The dashboard's layout: a pure function from the model, the view and the terminal size to a
/// ``Frame``. No I/O, no clock (`now` is passed in), no terminal: every screen is tested by
/// comparing frame text.
public enum Layout {
    /// Lays out one frame.
    ///
    /// Below 80×24 the frame is a single line saying so; everything else fits its rows to
    /// `size.columns` display columns and lays out only the visible rows of long lists.
    /// - Parameters:
    ///   - model: The cluster as displayed (a frozen copy while paused).
    ///   - view: Screen, selections, filters, dialog, status.
    ///   - size: The terminal size.
    ///   - now: Local time, epoch seconds, for ages and rates.
    public static func layout(model: ClusterState, view: ViewState, size: TerminalSize, now: Double) -> Frame {
        guard size.isUsable else { return tooSmall(size) }
        let summary = model.summary(now: now)
        var rows: [Frame.Row] = []
        rows.append(ChromeLayout.header(summary: summary, view: view))
        rows.append(ChromeLayout.tabs(view: view, width: size.columns))
        let bodyHeight = ScreenGeometry.bodyHeight(size)
        var body: [Frame.Row]
        switch view.screen {
        case .overview: body = OverviewLayout.body(model: model, summary: summary, view: view, size: size, now: now)
        case .workers: body = WorkersLayout.body(model: model, view: view, size: size, now: now)
        case .tasks: body = TasksLayout.body(model: model, view: view, size: size, now: now)
        case .taskDetail(let id): body = TaskDetailLayout.body(id: id, model: model, view: view, size: size)
        case .workflow: body = WorkflowLayout.body(model: model, view: view, size: size, now: now)
        case .failures: body = FailuresLayout.body(model: model, view: view, size: size, now: now)
        case .queues: body = QueuesLayout.body(model: model, view: view, size: size, now: now)
        case .help: body = HelpLayout.body(view: view, size: size)
        }
        if body.count > bodyHeight { body.removeLast(body.count - bodyHeight) }
        while body.count < bodyHeight { body.append(Frame.Row()) }
        rows += body
        rows.append(ChromeLayout.statusLine(view: view, width: size.columns))
        rows.append(ChromeLayout.keyHints(view: view))
        return Frame(rows: rows, columns: size.columns)
    }

    /// The frame for a terminal below 80×24.
    public static func tooSmall(_ size: TerminalSize) -> Frame {
        let text = "qmon needs at least \(TerminalSize.minimum.columns)×\(TerminalSize.minimum.rows) (now \(size.columns)×\(size.rows))"
        var rows = [Frame.Row([Frame.Span(text, .warning)])]
        if size.rows > 1 { rows.append(Frame.Row([Frame.Span("enlarge the window, or press q to quit", .dim)])) }
        return Frame(rows: Array(rows.prefix(max(size.rows, 0))), columns: max(size.columns, 0))
    }
}
