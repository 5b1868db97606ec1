/// Every key binding of the dashboard, in one table: key handling, the help screen and the
/// command's `--help` discussion are all generated from it, so they cannot drift apart.
public enum KeyMap {
    /// One binding: the keys, the command and what it does where.
    public struct Binding: Sendable, Hashable {
        /// Keys that trigger it (the first is the one shown first).
        public let keys: [Key]
        /// The command.
        public let command: MonitorCommand
        /// Where it applies, e.g. "Tasks" or "everywhere".
        public let scope: String
        /// What it does, one line.
        public let help: String

        /// Keys as written in help, e.g. `j/↓`.
        public var keyLabel: String { keys.map(\.label).joined(separator: "/") }
    }

    /// All bindings in help order: navigation, task list, actions.
    public static let bindings: [Binding] = [
        Binding(keys: [.char("k"), .up], command: .moveUp, scope: "everywhere", help: "move up (task detail: previous link)"),
        Binding(keys: [.char("j"), .down], command: .moveDown, scope: "everywhere", help: "move down (task detail: next link)"),
        Binding(keys: [.pageUp, .char("b")], command: .pageUp, scope: "everywhere", help: "page up"),
        Binding(keys: [.pageDown], command: .pageDown, scope: "everywhere", help: "page down"),
        Binding(keys: [.char("g"), .home], command: .moveToTop, scope: "everywhere", help: "go to the top"),
        Binding(keys: [.char("G"), .end], command: .moveToBottom, scope: "everywhere", help: "go to the bottom"),
        Binding(keys: [.tab, .right], command: .nextScreen, scope: "everywhere", help: "next screen"),
        Binding(keys: [.backTab, .left], command: .previousScreen, scope: "everywhere", help: "previous screen"),
        Binding(keys: [.char("1")], command: .show(.overview), scope: "everywhere", help: "overview"),
        Binding(keys: [.char("2")], command: .show(.workers), scope: "everywhere", help: "workers"),
        Binding(keys: [.char("3")], command: .show(.tasks), scope: "everywhere", help: "tasks"),
        Binding(keys: [.char("4")], command: .show(.failures), scope: "everywhere", help: "failures"),
        Binding(keys: [.char("5")], command: .show(.queues), scope: "everywhere", help: "queues"),
        Binding(keys: [.enter], command: .open, scope: "lists",
            help: "open: task detail, a worker's or task name's tasks, a failure's latest task, a detail's selected link"),
        Binding(keys: [.char("W")], command: .openWorkflow, scope: "tasks, detail, workflow",
            help: "workflow: the task's workflow as a live tree (chain, group, chord)"),
        Binding(keys: [.escape, .backspace], command: .back, scope: "everywhere", help: "back / cancel"),
        Binding(keys: [.char("?"), .function(1)], command: .help, scope: "everywhere", help: "this help"),
        Binding(keys: [.char("p")], command: .togglePause, scope: "everywhere",
            help: "pause the display (events are still collected)"),
        Binding(keys: [.char("q")], command: .quit, scope: "everywhere", help: "quit"),
        Binding(keys: [.char("/")], command: .beginSearch, scope: "tasks", help: "search id, name and args"),
        Binding(keys: [.char("f")], command: .cycleStateFilter, scope: "tasks", help: "filter by state (cycles)"),
        Binding(keys: [.char("s")], command: .cycleSort, scope: "tasks", help: "sort by time, runtime, name"),
        Binding(keys: [.char("n")], command: .filterByName, scope: "tasks", help: "only this task name (again: all)"),
        Binding(keys: [.char("w")], command: .filterByWorker, scope: "tasks", help: "only this worker (again: all)"),
        Binding(keys: [.char("c")], command: .clearFilters, scope: "tasks", help: "clear filters, search and marks"),
        Binding(keys: [.char(" ")], command: .toggleMark, scope: "tasks", help: "mark/unmark task (act on several)"),
        Binding(keys: [.char("a")], command: .markAllMatching, scope: "tasks",
            help: "mark all tasks matching filter and search"),
        Binding(keys: [.char("r")], command: .revoke, scope: "tasks, detail", help: "revoke task(s)"),
        Binding(keys: [.char("t")], command: .terminate, scope: "tasks, detail",
            help: "terminate task(s): revoke and SIGTERM"),
        Binding(keys: [.char("R")], command: .retry, scope: "tasks, detail, failures", help: "retry failed task"),
        Binding(keys: [.char("l")], command: .rateLimit, scope: "overview, tasks, detail, failures",
            help: "set rate limit of the task name"),
        Binding(keys: [.char("+")], command: .poolGrow, scope: "workers", help: "grow pool by 1"),
        Binding(keys: [.char("-")], command: .poolShrink, scope: "workers", help: "shrink pool by 1"),
        Binding(keys: [.char("x")], command: .shutdownWorker, scope: "workers", help: "shut worker down"),
        Binding(keys: [.char("P")], command: .purgeQueue, scope: "queues", help: "purge queue (type its name)"),
    ]

    /// Key → command outside text entry.
    private static let table: [Key: MonitorCommand] = {
        var t: [Key: MonitorCommand] = [:]
        for b in bindings {
            for k in b.keys where t[k] == nil { t[k] = b.command }
        }
        return t
    }()

    /// The command for a key.
    ///
    /// - Parameters:
    ///   - key: The key pressed.
    ///   - textEntry: Whether a search or prompt is taking text: then printable keys are text,
    ///     Enter submits and Esc cancels.
    /// - Returns: The command, or `nil` for an unbound key.
    public static func command(for key: Key, textEntry: Bool) -> MonitorCommand? {
        if key == .resize { return .resized }
        if textEntry {
            switch key {
            case .char(let c): return .insert(c)
            case .backspace: return .deleteBackward
            case .enter: return .submit
            case .escape: return .cancel
            default: return table[key]
            }
        }
        return table[key]
    }

    /// Every binding, one per line, for the command's `--help` discussion.
    public static var helpText: String {
        let width = bindings.map { DisplayWidth.of($0.keyLabel) }.max() ?? 0
        return bindings.map { b in
            "  \(DisplayWidth.fit(b.keyLabel, to: width))  \(b.help) (\(b.scope))"
        }.joined(separator: "\n")
    }
}
