import Celeriac

/// The lines around every screen: the header (connection, workers, rates, pause), the tabs,
/// the status or prompt line and the key hints (taken from ``KeyMap``).
enum ChromeLayout {
    static func header(summary s: ClusterSummary, view: ViewState) -> Frame.Row {
        var spans = [Frame.Span(" qmon ", .header)]
        if view.isPaused { spans.append(Frame.Span(" PAUSED ", .warning)) }
        if view.isReadOnly { spans.append(Frame.Span(" READ-ONLY ", .warning)) }
        spans.append(Frame.Span(" workers \(s.workersOnline)/\(s.workersTotal) ", .header))
        spans.append(Frame.Span(" \(Format.rate(s.tasksPerSecondLastMinute)) tasks/s ", .header))
        spans.append(Frame.Span(" \(s.failuresPerMinute) failed/min ", s.failuresPerMinute > 0 ? .failure : .header))
        if s.eventsDropped > 0 {
            // Stays up once events were lost: every number on screen may be short of them.
            spans.append(Frame.Span(" \(Format.count(s.eventsDropped)) events dropped ", .warning))
        }
        spans.append(Frame.Span(" \(DisplayWidth.sanitize(view.connectionLabel)) ", .header))
        return Frame.Row(spans, fill: .header)
    }

    static func tabs(view: ViewState, width: Int) -> Frame.Row {
        var spans: [Frame.Span] = []
        for kind in ScreenKind.allCases {
            let active = view.screen.tab == kind && view.screen != .help
            spans.append(Frame.Span(" \(kind.rawValue) \(kind.title) ", active ? .tabActive : .normal))
        }
        spans.append(Frame.Span(" ? Help ", view.screen == .help ? .tabActive : .dim))
        if case .taskDetail(let id) = view.screen {
            spans.append(Frame.Span(" › task \(id)", .accent))
        }
        if case .workflow(let id) = view.screen {
            spans.append(Frame.Span(" › workflow of \(id)", .accent))
        }
        return Frame.Row(spans)
    }

    static func statusLine(view: ViewState, width: Int) -> Frame.Row {
        if let d = view.dialog {
            return Frame.Row([Frame.Span(DisplayWidth.sanitize(d.prompt) + "▏", .prompt)], fill: .prompt)
        }
        if view.isSearching {
            return Frame.Row([
                Frame.Span("/", .accent), Frame.Span(DisplayWidth.sanitize(view.query.search) + "▏", .prompt),
                Frame.Span("  search id, name, args: Enter keeps, Esc cancels", .dim),
            ])
        }
        guard let s = view.status else { return Frame.Row() }
        let style: Frame.Style =
            switch s.tone {
            case .info: .status
            case .success: .success
            case .failure: .failure
            case .pending: .warning
            }
        return Frame.Row([Frame.Span(DisplayWidth.sanitize(s.text), style)])
    }

    /// Short names of commands for the hint line.
    private static let hintNames: [MonitorCommand: String] = [
        .open: "open", .back: "back", .beginSearch: "search", .cycleStateFilter: "state", .cycleSort: "sort",
        .toggleMark: "mark", .markAllMatching: "mark all", .revoke: "revoke", .terminate: "terminate",
        .retry: "retry", .rateLimit: "rate limit", .poolGrow: "pool+", .poolShrink: "pool-",
        .shutdownWorker: "shutdown", .purgeQueue: "purge", .help: "help", .togglePause: "pause", .quit: "quit",
        .filterByName: "name", .filterByWorker: "worker", .openWorkflow: "workflow",
    ]

    static func hintCommands(for screen: Screen, readOnly: Bool) -> [MonitorCommand] {
        var commands: [MonitorCommand]
        switch screen {
        case .overview: commands = [.open, .rateLimit]
        case .workers: commands = [.open, .poolGrow, .poolShrink, .shutdownWorker]
        case .tasks:
            commands = [.open, .openWorkflow, .beginSearch, .cycleStateFilter, .cycleSort, .filterByName, .toggleMark, .revoke, .terminate, .retry]
        case .taskDetail: commands = [.back, .open, .openWorkflow, .revoke, .terminate, .retry]
        case .workflow: commands = [.back, .open, .revoke, .terminate, .retry]
        case .failures: commands = [.open, .retry, .rateLimit]
        case .queues: commands = [.purgeQueue]
        case .help: commands = [.back]
        }
        if readOnly { commands.removeAll(where: \.isAction) }
        return commands + [.togglePause, .help, .quit]
    }

    static func keyHints(view: ViewState) -> Frame.Row {
        var spans: [Frame.Span] = []
        for command in hintCommands(for: view.screen, readOnly: view.isReadOnly) {
            guard let b = KeyMap.bindings.first(where: { $0.command == command }), let name = hintNames[command] else {
                continue
            }
            spans.append(Frame.Span(b.keys[0].label, .accent))
            spans.append(Frame.Span(" \(name)  ", .dim))
        }
        return Frame.Row(spans)
    }
}
