/// A key press, decoded from the terminal by the screen, so that key handling can be driven by
/// tests without one.
public enum Key: Sendable, Hashable {
    /// A printable character (including space).
    case char(Character)
    case up, down, left, right, pageUp, pageDown, home, end
    case enter, escape, tab, backTab, backspace
    /// The terminal changed size (ncurses' `KEY_RESIZE`).
    case resize
    /// A function key, F1…F12.
    case function(Int)

    /// How the key is written in help texts (`↑`, `PgDn`, `Shift-Tab`, `q`).
    public var label: String {
        switch self {
        case .char(" "): "Space"
        case .char(let c): String(c)
        case .up: "↑"
        case .down: "↓"
        case .left: "←"
        case .right: "→"
        case .pageUp: "PgUp"
        case .pageDown: "PgDn"
        case .home: "Home"
        case .end: "End"
        case .enter: "Enter"
        case .escape: "Esc"
        case .tab: "Tab"
        case .backTab: "Shift-Tab"
        case .backspace: "Backspace"
        case .resize: "(resize)"
        case .function(let n): "F\(n)"
        }
    }
}
