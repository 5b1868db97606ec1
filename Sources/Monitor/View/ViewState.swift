import Celeriac

/// Everything about what the operator is looking at, apart from the cluster itself: screen,
/// selections, task filters, pause, dialog, status line.
///
/// Changed only by ``handle(_:model:)`` (keys) and by the loop (action outcomes, notices,
/// size), on the loop's thread; read by the layouts. A plain value, so key handling is tested by
/// feeding commands and comparing states.
///
/// Pausing (`p`) is done by the loop, which keeps applying inputs to the live model and shows
/// a frozen copy (see ``MonitorLoop``); this type only records the flag.
public struct ViewState: Sendable {
    /// The screen shown.
    public var screen: Screen = .overview
    /// Screens to return to with `Esc` (detail and help, and lists opened with Enter).
    public var backStack: [Screen] = []
    /// Selection and scroll per pane.
    public var positions: [Pane: ListPosition] = [:]
    /// The task the task list's selection is on, so it stays on it while new tasks arrive.
    public var selectedTaskID: String?
    /// Task list filters, search and sort.
    public var query = TaskQuery()
    /// Whether `/` search is taking text.
    public var isSearching = false
    /// The search text before `/`, restored by Esc.
    var searchBeforeEditing = ""
    /// Tasks marked with Space or `a`, for actions on several tasks.
    public var marked: Set<String> = []
    /// The display is frozen (the loop keeps collecting).
    public var isPaused = false
    /// An open confirmation or prompt.
    public var dialog: Dialog?
    /// The last outcome or notice.
    public var status: StatusLine?
    /// `--read-only`: every action is refused.
    public let isReadOnly: Bool
    /// What the header says about the connection: the broker URL without its password.
    public var connectionLabel: String
    /// The terminal size, kept by the loop, for paging.
    public var size = TerminalSize(rows: 24, columns: 80)
    /// Bumped by the loop whenever the model changes (cache key for ``listing``).
    public var modelVersion = 0
    /// The cached task list for ``query`` (see ``refreshListing(model:)``).
    public private(set) var listing: TaskListing?
    /// The cached workflow tree of the workflow screen, with the ``modelVersion`` it was built
    /// at (see ``refreshWorkflow(model:)``).
    public private(set) var workflow: (tree: WorkflowTree, version: Int)?

    /// Creates the initial view (overview screen).
    ///
    /// - Parameters:
    ///   - connectionLabel: Broker URL for the header, password redacted.
    ///   - readOnly: Refuse every action.
    public init(connectionLabel: String = "", readOnly: Bool = false) {
        self.connectionLabel = connectionLabel
        self.isReadOnly = readOnly
    }

    /// Whether keys are text (search, or a dialog).
    public var isTextEntry: Bool { isSearching || dialog != nil }

    /// Selection and scroll of a pane.
    public func position(_ pane: Pane) -> ListPosition { positions[pane] ?? ListPosition() }

    // MARK: Task list

    /// Recomputes ``listing`` if the query or model changed; cheap when nothing did.
    public mutating func refreshListing(model: ClusterState) {
        if let l = listing, l.isCurrent(for: query, model: model, version: modelVersion) { return }
        let l = TaskListing(model: model, query: query, version: modelVersion)
        listing = l
        // Keep the selection on the same task while the list moves under it.
        if let id = selectedTaskID, let i = l.index(of: id, in: model) {
            var p = position(.tasks)
            let delta = i - p.selected
            p.selected = i
            p.top += delta
            positions[.tasks] = p.normalized(count: l.count(in: model), height: ScreenGeometry.listHeight(.tasks, size))
        }
    }

    /// The current listing for ``query``, computed now if the cached one is stale.
    public func currentListing(model: ClusterState) -> TaskListing {
        if let l = listing, l.isCurrent(for: query, model: model, version: modelVersion) { return l }
        return TaskListing(model: model, query: query, version: modelVersion)
    }

    /// The task under the task list's selection.
    public func selectedTask(model: ClusterState) -> TaskRecord? {
        let l = currentListing(model: model)
        return l.record(at: position(.tasks).normalized(count: l.count(in: model), height: 1).selected, in: model)
    }

    // MARK: Workflow

    /// Rebuilds ``workflow`` when the workflow screen is shown and the model or the task
    /// changed; cheap when nothing did.
    public mutating func refreshWorkflow(model: ClusterState) {
        guard case .workflow(let id) = screen else { return }
        if let w = workflow, w.version == modelVersion, w.tree.startID == id { return }
        workflow = (WorkflowTree(around: id, in: model), modelVersion)
    }

    /// The workflow screen's tree, from the cache when it is current.
    public func currentWorkflow(model: ClusterState) -> WorkflowTree? {
        guard case .workflow(let id) = screen else { return nil }
        if let w = workflow, w.version == modelVersion, w.tree.startID == id { return w.tree }
        return WorkflowTree(around: id, in: model)
    }

    /// The id of the task the workflow screen's selection is on (a task or a missing node).
    public func selectedWorkflowTask(model: ClusterState) -> String? {
        guard let tree = currentWorkflow(model: model), !tree.rows.isEmpty else { return nil }
        let i = min(max(0, position(.workflow).selected), tree.rows.count - 1)
        switch tree.rows[i].node {
        case .task(let id), .missing(let id): return id
        case .group: return nil
        }
    }

    /// The links of the task detail shown.
    func detailLinks(model: ClusterState) -> [TaskLinks.Link] {
        guard case .taskDetail(let id) = screen, let r = model.tasks[id] else { return [] }
        return TaskLinks(of: r, in: model).links
    }

    // MARK: Other lists

    /// The overview's per-name rows, in display order.
    public static func taskTypes(_ model: ClusterState) -> [TaskTypeStats] { model.taskTypesByName }

    /// The workers screen's rows.
    public static func workers(_ model: ClusterState) -> [WorkerState] { model.workersByName }

    /// The failures screen's rows.
    public static func failureGroups(_ model: ClusterState) -> [FailureGroups.Group] { model.failures.newestFirst }

    /// Rows in a pane's list (for detail and help: lines of text at the current width).
    func rowCount(_ pane: Pane, model: ClusterState) -> Int {
        switch pane {
        case .overview: return model.taskTypes.count
        case .workers: return model.workers.count
        case .tasks: return currentListing(model: model).count(in: model)
        case .failures: return model.failures.count
        case .queues: return model.queues.count
        case .detail:
            guard case .taskDetail(let id) = screen, let r = model.tasks[id] else { return 0 }
            return TaskDetailLayout.lines(for: r, model: model, width: size.columns).count
        case .workflow: return currentWorkflow(model: model)?.rows.count ?? 0
        case .help: return HelpLayout.lines(width: size.columns, readOnly: isReadOnly).count
        }
    }

    /// The selected row of a pane, clamped to its list.
    func selectedIndex(_ pane: Pane, model: ClusterState) -> Int? {
        let n = rowCount(pane, model: model)
        guard n > 0 else { return nil }
        return min(max(0, position(pane).selected), n - 1)
    }
}
