/// What a key means, independent of the key: the vocabulary ``ViewState/handle(_:model:)``
/// understands. Keys map to commands in ``KeyMap``; typed text (search, prompts) arrives as
/// ``insert(_:)``/``deleteBackward``/``submit``/``cancel``.
public enum MonitorCommand: Sendable, Hashable {
    // Navigation
    case moveUp, moveDown, pageUp, pageDown, moveToTop, moveToBottom
    case nextScreen, previousScreen
    /// Jump to one of the numbered screens.
    case show(ScreenKind)
    /// Open the selected item (task detail, the tasks of a worker or name, a failure's latest task).
    case open
    /// Open the workflow view of the selected task (task list) or of the task shown (detail, workflow).
    case openWorkflow
    /// Leave the current screen, dialog or search.
    case back
    case help, togglePause, quit
    // Task list
    case beginSearch, cycleStateFilter, cycleSort
    /// Filter the task list by the selected task's name (again: remove the name filter).
    case filterByName
    /// Filter the task list by the selected task's worker (again: remove the worker filter).
    case filterByWorker
    /// Remove filters, search and marks.
    case clearFilters
    /// Mark or unmark the selected task for an action on several tasks.
    case toggleMark
    /// Mark every task matching the filter and search (again: unmark all).
    case markAllMatching
    // Actions (each asks for confirmation; none in read-only mode)
    case revoke, terminate, retry, rateLimit, poolGrow, poolShrink, shutdownWorker, purgeQueue
    // Text entry (search, prompts, confirmations)
    case insert(Character)
    case deleteBackward, submit, cancel
    /// The terminal changed size: lay out again.
    case resized

    /// Whether this command starts an operator action (blocked by `--read-only`).
    public var isAction: Bool {
        switch self {
        case .revoke, .terminate, .retry, .rateLimit, .poolGrow, .poolShrink, .shutdownWorker, .purgeQueue: true
        default: false
        }
    }
}
