import Celeriac

extension ViewState {
    /// Applies one command to the view.
    ///
    /// Never draws and never does I/O: an action the operator confirmed comes back as
    /// ``Effect/perform(_:)`` for the loop to carry out. Actions first open a ``Dialog``;
    /// in read-only mode they only set a status line.
    /// - Parameters:
    ///   - command: The command (``KeyMap/command(for:textEntry:)``).
    ///   - model: The model as displayed (frozen while paused), to resolve selections.
    /// - Returns: What the loop should do.
    public mutating func handle(_ command: MonitorCommand, model: ClusterState) -> Effect {
        if command == .resized { return .redraw }
        if dialog != nil { return handleDialog(command) }
        if isSearching { return handleSearch(command) }
        if command.isAction {
            if isReadOnly {
                status = StatusLine("read-only mode (--read-only): actions are disabled", tone: .failure)
                return .redraw
            }
            return startAction(command, model: model)
        }
        switch command {
        case .quit: return .quit
        case .moveUp: move(by: -1, model: model)
        case .moveDown: move(by: 1, model: model)
        case .pageUp: move(by: -ScreenGeometry.listHeight(screen.pane, size), model: model)
        case .pageDown: move(by: ScreenGeometry.listHeight(screen.pane, size), model: model)
        case .moveToTop: move(by: Int.min / 2, model: model)
        case .moveToBottom: move(by: Int.max / 2, model: model)
        case .nextScreen, .previousScreen:
            let tabs = ScreenKind.allCases
            let current = screen.tab ?? .overview
            let i = tabs.firstIndex(of: current)!
            let step = command == .nextScreen ? 1 : tabs.count - 1
            go(to: tabs[(i + step) % tabs.count].screen)
        case .show(let kind): go(to: kind.screen)
        case .help:
            if screen == .help { return back() }
            push(.help)
            positions[.help] = ListPosition()
        case .back: return back()
        case .togglePause: isPaused.toggle()
        case .open: return open(model: model)
        case .openWorkflow:
            let id: String?
            switch screen {
            case .tasks: id = selectedTask(model: model)?.uuid
            case .taskDetail(let shown): id = shown
            case .workflow: id = selectedWorkflowTask(model: model)
            default: return hint("W shows a task's workflow (3 Tasks, task detail)")
            }
            guard let id else { return hint("select a task first") }
            if case .workflow(let shown) = screen, shown == id { return .none }
            push(.workflow(id))
            positions[.workflow] = ListPosition()
            // Select the task it was opened from.
            if let i = currentWorkflow(model: model)?.rows.firstIndex(where: { $0.node == .task(id) }) {
                positions[.workflow] = ListPosition(selected: i).normalized(
                    count: rowCount(.workflow, model: model), height: ScreenGeometry.listHeight(.workflow, size))
            }
        case .beginSearch:
            if screen != .tasks { go(to: .tasks) }
            isSearching = true
            searchBeforeEditing = query.search
        case .cycleStateFilter:
            guard onTaskList else { return hint("f filters the task list (3)") }
            let cycle = TaskQuery.stateCycle
            let i = cycle.firstIndex(of: query.state) ?? 0
            query.state = cycle[(i + 1) % cycle.count]
        case .cycleSort:
            guard onTaskList else { return hint("s sorts the task list (3)") }
            query.sort = query.sort.next
        case .filterByName:
            guard onTaskList else { return hint("n filters the task list (3)") }
            if query.name != nil {
                query.name = nil
            } else if let name = selectedTask(model: model)?.name {
                query.name = name
            }
        case .filterByWorker:
            guard onTaskList else { return hint("w filters the task list (3)") }
            if query.worker != nil {
                query.worker = nil
            } else if let w = selectedTask(model: model)?.worker {
                query.worker = w
            }
        case .clearFilters:
            query = TaskQuery(sort: query.sort)
            marked = []
        case .toggleMark:
            guard onTaskList, let id = selectedTask(model: model)?.uuid else { return .none }
            if marked.contains(id) { marked.remove(id) } else { marked.insert(id) }
            move(by: 1, model: model)
        case .markAllMatching:
            guard onTaskList else { return hint("a marks tasks in the task list (3)") }
            let all = currentListing(model: model).allIDs(in: model)
            if !marked.isEmpty && marked.count >= all.count && all.allSatisfy(marked.contains) {
                marked = []
            } else {
                marked = Set(all)
                status = StatusLine("marked \(all.count) task\(all.count == 1 ? "" : "s") matching the filter")
            }
        default: return .none
        }
        return .redraw
    }

    private var onTaskList: Bool { screen == .tasks }

    private mutating func hint(_ text: String) -> Effect {
        status = StatusLine(text)
        return .redraw
    }

    // MARK: Navigation

    private mutating func go(to target: Screen) {
        backStack = []
        screen = target
    }

    private mutating func push(_ target: Screen) {
        if screen != target { backStack.append(screen) }
        screen = target
    }

    private mutating func back() -> Effect {
        if let previous = backStack.popLast() {
            screen = previous
            return .redraw
        }
        if screen == .tasks, !marked.isEmpty {
            marked = []
            return .redraw
        }
        return .none
    }

    private mutating func move(by delta: Int, model: ClusterState) {
        let pane = screen.pane
        let height = ScreenGeometry.listHeight(pane, size)
        let count = rowCount(pane, model: model)
        var p = position(pane)
        if pane == .detail, moveLinkSelection(by: delta, model: model) { return }
        if pane == .detail || pane == .help {
            // Text: scroll the view, there is no selection.
            let maxTop = max(0, count - height)
            p.top = min(max(0, p.top.addingReportingOverflow(delta).partialValue), maxTop)
            positions[pane] = p
            return
        }
        p.selected = max(0, min(count - 1, p.selected.addingReportingOverflow(delta).partialValue))
        p = p.normalized(count: count, height: height)
        positions[pane] = p
        if pane == .tasks {
            selectedTaskID = currentListing(model: model).id(at: p.selected, in: model)
        }
    }

    /// In a task detail with links, a single step moves the link selection (scrolling to keep
    /// it in view) instead of the text; past the last link it scrolls on, and back up it
    /// scrolls to the top before the selection moves up again. Pages always scroll.
    /// - Returns: Whether the step was taken here.
    private mutating func moveLinkSelection(by delta: Int, model: ClusterState) -> Bool {
        guard abs(delta) == 1, case .taskDetail(let id) = screen, let r = model.tasks[id] else { return false }
        let rows = TaskDetailLayout.content(for: r, model: model, width: size.columns, selectedLink: nil).linkRows
        guard !rows.isEmpty else { return false }
        let height = ScreenGeometry.listHeight(.detail, size)
        var p = position(.detail)
        p.selected = min(max(0, p.selected), rows.count - 1)
        let visible = p.top..<(p.top + height)
        if delta > 0, p.selected < rows.count - 1, visible.contains(rows[p.selected]) || rows[p.selected] >= p.top {
            p.selected += 1
            if rows[p.selected] >= p.top + height { p.top = rows[p.selected] - height + 1 }
        } else if delta < 0, p.selected > 0, p.top <= rows[p.selected] {
            p.selected -= 1
            if rows[p.selected] < p.top { p.top = rows[p.selected] }
        } else {
            return false
        }
        positions[.detail] = p
        return true
    }

    private mutating func open(model: ClusterState) -> Effect {
        switch screen {
        case .overview:
            let types = Self.taskTypes(model)
            guard let i = selectedIndex(.overview, model: model) else { return .none }
            query = TaskQuery(name: types[i].name, sort: query.sort)
            push(.tasks)
        case .workers:
            let workers = Self.workers(model)
            guard let i = selectedIndex(.workers, model: model) else { return .none }
            query = TaskQuery(worker: workers[i].hostname, sort: query.sort)
            push(.tasks)
        case .tasks:
            guard let r = selectedTask(model: model) else { return .none }
            openDetail(r.uuid)
        case .failures:
            let groups = Self.failureGroups(model)
            guard let i = selectedIndex(.failures, model: model) else { return .none }
            let id = groups[i].latestTaskID
            guard model.tasks.contains(id) else { return hint("task \(id) is no longer held (--max-tasks)") }
            openDetail(id)
        case .taskDetail:
            let links = detailLinks(model: model)
            guard !links.isEmpty else { return hint("no linked task to open") }
            let next = links[min(max(0, position(.detail).selected), links.count - 1)].id
            guard model.tasks.contains(next) else { return hint("task \(next) is not held") }
            openDetail(next)
        case .workflow:
            guard let id = selectedWorkflowTask(model: model) else { return hint("a group row has no detail: select a task") }
            guard model.tasks.contains(id) else { return hint("task \(id) is not held") }
            openDetail(id)
        case .queues, .help:
            return .none
        }
        positions[.tasks] = ListPosition()
        return .redraw
    }

    private mutating func openDetail(_ id: String) {
        push(.taskDetail(id))
        positions[.detail] = ListPosition()
    }

    // MARK: Search

    private mutating func handleSearch(_ command: MonitorCommand) -> Effect {
        switch command {
        case .insert(let c): query.search.append(c)
        case .deleteBackward: if !query.search.isEmpty { query.search.removeLast() }
        case .submit: isSearching = false
        case .cancel:
            isSearching = false
            query.search = searchBeforeEditing
        default: return .none
        }
        positions[.tasks] = ListPosition()
        selectedTaskID = nil
        return .redraw
    }

    // MARK: Actions

    /// Targets the action and opens its confirmation.
    private mutating func startAction(_ command: MonitorCommand, model: ClusterState) -> Effect {
        switch command {
        case .revoke, .terminate:
            let ids = taskTargets(model: model)
            guard !ids.isEmpty else { return hint("select a task first (3 Tasks)") }
            let terminate = command == .terminate
            dialog = Dialog(.confirm(.revoke(taskIDs: ids, terminate: terminate, signal: "SIGTERM")))
        case .retry:
            let id: String?
            switch screen {
            case .failures:
                let groups = Self.failureGroups(model)
                id = selectedIndex(.failures, model: model).map { groups[$0].latestTaskID }
            default:
                id = currentTask(model: model)?.uuid
            }
            guard let id else { return hint("select a failed task first") }
            if let r = model.tasks[id], r.state != .failure {
                return hint("only failed tasks can be retried (task \(id) is \(r.state.rawValue))")
            }
            dialog = Dialog(.confirm(.retry(taskID: id)))
        case .rateLimit:
            let name: String?
            switch screen {
            case .overview:
                let types = Self.taskTypes(model)
                name = selectedIndex(.overview, model: model).map { types[$0].name }
            case .failures:
                let groups = Self.failureGroups(model)
                name = selectedIndex(.failures, model: model).flatMap { groups[$0].key.taskName }
            default:
                name = currentTask(model: model)?.name
            }
            guard let name, name != ClusterState.otherTaskTypesName else { return hint("select a task name first") }
            dialog = Dialog(.rateLimit(taskName: name))
        case .poolGrow, .poolShrink, .shutdownWorker:
            guard screen == .workers else { return hint("worker actions are on the workers screen (2)") }
            let workers = Self.workers(model)
            guard let i = selectedIndex(.workers, model: model) else { return hint("no worker selected") }
            let w = workers[i].hostname
            let action: MonitorAction =
                switch command {
                case .poolGrow: .poolGrow(worker: w, n: 1)
                case .poolShrink: .poolShrink(worker: w, n: 1)
                default: .shutdown(worker: w)
                }
            dialog = Dialog(.confirm(action))
        case .purgeQueue:
            guard screen == .queues else { return hint("purge is on the queues screen (5)") }
            guard let i = selectedIndex(.queues, model: model) else { return hint("no queue selected") }
            let q = model.queues[i].name
            dialog = Dialog(.typeToConfirm(.purge(queue: q), expected: q))
        default: return .none
        }
        return .redraw
    }

    /// The task an action on "this task" means: the detail's task, or the list's selection.
    private func currentTask(model: ClusterState) -> TaskRecord? {
        switch screen {
        case .taskDetail(let id): return model.tasks[id]
        case .tasks: return selectedTask(model: model)
        case .workflow: return selectedWorkflowTask(model: model).flatMap { model.tasks[$0] }
        default: return nil
        }
    }

    /// Tasks a revoke applies to: the marked ones (in list order), else the current one.
    private func taskTargets(model: ClusterState) -> [String] {
        if screen == .tasks, !marked.isEmpty {
            let listed = currentListing(model: model).allIDs(in: model).filter(marked.contains)
            let rest = marked.subtracting(listed).sorted()
            return listed + rest
        }
        return currentTask(model: model).map { [$0.uuid] } ?? []
    }

    private mutating func handleDialog(_ command: MonitorCommand) -> Effect {
        guard var d = dialog else { return .none }
        switch command {
        case .cancel, .back:
            dialog = nil
            status = StatusLine("cancelled")
            return .redraw
        case .deleteBackward:
            if !d.typed.isEmpty { d.typed.removeLast() }
            dialog = d
            return .redraw
        case .insert(let c):
            if case .confirm(let action) = d.kind {
                switch c {
                case "y", "Y": return confirm(action)
                case "n", "N":
                    dialog = nil
                    status = StatusLine("cancelled")
                    return .redraw
                default: return .none
                }
            }
            d.typed.append(c)
            dialog = d
            return .redraw
        case .submit:
            switch d.kind {
            case .confirm(let action): return confirm(action)
            case .typeToConfirm(let action, let expected):
                guard d.typed == expected else {
                    status = StatusLine("type '\(expected)' exactly to confirm, or Esc to cancel", tone: .failure)
                    return .redraw
                }
                return confirm(action)
            case .rateLimit(let name):
                let rate = d.typed.trimmingSpaces
                guard Self.isValidRate(rate) else {
                    status = StatusLine("a rate is a number with /s, /m or /h, or 0 (got '\(rate)')", tone: .failure)
                    return .redraw
                }
                return confirm(.rateLimit(taskName: name, rate: rate))
            }
        default:
            return .none
        }
    }

    private mutating func confirm(_ action: MonitorAction) -> Effect {
        dialog = nil
        if case .revoke = action { marked = [] }
        status = StatusLine("\(action.summary)…", tone: .pending)
        return .perform(action)
    }

    /// Celery's rate syntax: `N`, `N/s`, `N/m`, `N/h` (N may be a decimal); `0` removes the limit.
    static func isValidRate(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let n = Double(parts[0]), n >= 0 else { return false }
        return parts.count == 1 || ["s", "m", "h"].contains(parts[1])
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s.removeFirst() }
        while s.last?.isWhitespace == true { s.removeLast() }
        return String(s)
    }
}
