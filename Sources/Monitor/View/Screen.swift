/// The dashboard's screens. The five numbered ones are tabs; detail and help open on top of
/// them and `Esc` returns.
public enum Screen: Sendable, Hashable {
    case overview, workers, tasks
    /// One task, by id: every field, tracebacks, timeline.
    case taskDetail(String)
    /// The workflow of a task, by the id it was opened from: a live tree of its linked tasks
    /// (``WorkflowTree``).
    case workflow(String)
    case failures, queues, help

    /// The tab this screen is, or belongs to (detail → tasks, help → none).
    public var tab: ScreenKind? {
        switch self {
        case .overview: .overview
        case .workers: .workers
        case .tasks, .taskDetail, .workflow: .tasks
        case .failures: .failures
        case .queues: .queues
        case .help: nil
        }
    }

    /// The key under which this screen's selection and scroll are kept.
    public var pane: Pane {
        switch self {
        case .overview: .overview
        case .workers: .workers
        case .tasks: .tasks
        case .taskDetail: .detail
        case .workflow: .workflow
        case .failures: .failures
        case .queues: .queues
        case .help: .help
        }
    }
}

/// The numbered screens (tabs), in tab order; the raw value is the number key.
public enum ScreenKind: Int, Sendable, Hashable, CaseIterable {
    case overview = 1, workers, tasks, failures, queues

    /// The screen.
    public var screen: Screen {
        switch self {
        case .overview: .overview
        case .workers: .workers
        case .tasks: .tasks
        case .failures: .failures
        case .queues: .queues
        }
    }

    /// Tab title.
    public var title: String {
        switch self {
        case .overview: "Overview"
        case .workers: "Workers"
        case .tasks: "Tasks"
        case .failures: "Failures"
        case .queues: "Queues"
        }
    }
}

/// Where a selection and scroll offset are kept: one per screen, one shared by all task details
/// (its selection is the selected link), one shared by all workflow views.
public enum Pane: Sendable, Hashable, CaseIterable {
    case overview, workers, tasks, detail, workflow, failures, queues, help
}

/// Selection and scroll of one list: the selected row and the first visible row.
public struct ListPosition: Sendable, Hashable {
    /// Selected row index.
    public var selected = 0
    /// First visible row index.
    public var top = 0

    /// Creates a position.
    public init(selected: Int = 0, top: Int = 0) {
        self.selected = selected
        self.top = top
    }

    /// The position clamped to a list of `count` rows shown `height` at a time, scrolled as
    /// little as possible to keep the selection visible.
    public func normalized(count: Int, height: Int) -> ListPosition {
        let h = max(1, height)
        guard count > 0 else { return ListPosition() }
        let sel = min(max(0, selected), count - 1)
        var top = min(max(0, self.top), max(0, count - h))
        if sel < top { top = sel }
        if sel >= top + h { top = sel - h + 1 }
        return ListPosition(selected: sel, top: top)
    }
}

/// The terminal size in character cells.
public struct TerminalSize: Sendable, Hashable {
    /// Lines.
    public var rows: Int
    /// Columns.
    public var columns: Int

    /// Creates a size.
    public init(rows: Int, columns: Int) {
        self.rows = rows
        self.columns = columns
    }

    /// The smallest size the dashboard lays out for.
    public static let minimum = TerminalSize(rows: 24, columns: 80)

    /// Whether this is at least ``minimum`` in both directions.
    public var isUsable: Bool { rows >= Self.minimum.rows && columns >= Self.minimum.columns }
}
