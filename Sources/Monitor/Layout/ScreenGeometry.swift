/// Where things go on the screen, shared by layouts (to draw) and key handling (to page and
/// scroll by the visible height), so the two always agree.
///
/// Every screen has a header line, a tab line, a body, a status line and a key-hint line.
public enum ScreenGeometry {
    /// Lines above the body.
    public static let headerLines = 2
    /// Lines below the body.
    public static let footerLines = 2

    /// Lines of the body at `size`.
    public static func bodyHeight(_ size: TerminalSize) -> Int { max(1, size.rows - headerLines - footerLines) }

    /// Lines of the failure screen's traceback preview under its list (none on small screens).
    public static func failurePreviewHeight(_ size: TerminalSize) -> Int {
        let body = bodyHeight(size)
        return body >= 18 ? min(10, body / 3) : 0
    }

    /// Visible rows of a pane's selectable list (or scrollable text).
    public static func listHeight(_ pane: Pane, _ size: TerminalSize) -> Int {
        let body = bodyHeight(size)
        let h: Int
        switch pane {
        case .overview: h = body - 6
        case .workers: h = body - 1
        case .tasks: h = body - 2
        case .failures: h = body - 1 - failurePreviewHeight(size)
        case .queues: h = body - 2
        case .workflow: h = body - 2
        case .detail, .help: h = body
        }
        return max(1, h)
    }
}
