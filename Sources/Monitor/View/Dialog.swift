/// A question at the bottom of the screen that holds all keys until answered: the confirmation
/// of an action, or a prompt for a value.
///
/// Every action is confirmed. Purging a queue throws messages away for good, so it asks for
/// the queue's name to be typed, not just `y`.
public struct Dialog: Sendable, Hashable {
    /// What is asked.
    public enum Kind: Sendable, Hashable {
        /// `y`/Enter performs the action, `n`/Esc cancels.
        case confirm(MonitorAction)
        /// The action is performed only when `expected` has been typed exactly, then Enter.
        case typeToConfirm(MonitorAction, expected: String)
        /// A rate for a task name ("10/m", "0" to remove); Enter sets it.
        case rateLimit(taskName: String)
    }

    /// What is asked.
    public var kind: Kind
    /// Text typed so far.
    public var typed: String = ""

    /// Creates a dialog.
    public init(_ kind: Kind, typed: String = "") {
        self.kind = kind
        self.typed = typed
    }

    /// The question, one line.
    public var prompt: String {
        switch kind {
        case .confirm(let action):
            return "\(Self.capitalized(action.summary))? [y/N] "
        case .typeToConfirm(let action, let expected):
            return "\(Self.capitalized(action.summary)): this cannot be undone. Type '\(expected)' and Enter: \(typed)"
        case .rateLimit(let name):
            return "Rate limit for \(name) (e.g. 10/m, 5/s, 0 = none), Enter to apply, Esc to cancel: \(typed)"
        }
    }

    private static func capitalized(_ s: String) -> String { s.prefix(1).uppercased() + s.dropFirst() }
}
