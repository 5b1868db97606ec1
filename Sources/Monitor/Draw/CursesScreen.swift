internal import CNCursesW
public import Foundation

/// The terminal, through ncursesw: the only code in qmon that calls ncurses.
///
/// - Checks first (``preflight(environment:)``): stdin and stdout must be terminals, `TERM`
///   known and able to address the cursor (not `dumb`), the window at least 80×24.
/// - Sets the locale (`setlocale(LC_ALL, "")`, falling back to `C.UTF-8` when the result is
///   not UTF-8: without it every non-ASCII character is blank).
/// - Opens the screen with `newterm` (which fails instead of exiting like `initscr`).
/// - Colours with the terminal's default background; 8-colour terminals get the basic
///   palette, and `NO_COLOR` (or a terminal without colours) gets bold/reverse/dim only.
/// - Draws a frame by erasing and rewriting the window, then one `doupdate`: ncurses sends
///   only the difference, so there is no flicker (no `clear()` per frame).
/// - ``end()`` restores the terminal; it is idempotent and also called by `deinit`.
///
/// Not thread-safe: one thread (the monitor loop's) owns it.
public final class CursesScreen: MonitorScreen {
    private var screen: OpaquePointer?
    private var ended = false
    private var attributes: [Frame.Style: attr_t] = [:]
    private let window: UnsafeMutablePointer<WINDOW>

    /// Checks that the dashboard can run here, without touching the screen.
    ///
    /// - Parameter environment: The process environment (`TERM`).
    /// - Returns: The terminal size.
    /// - Throws: ``TerminalError`` naming the problem.
    @discardableResult
    public static func preflight(environment: [String: String] = ProcessInfo.processInfo.environment) throws(TerminalError) -> TerminalSize {
        guard isatty(0) == 1, isatty(1) == 1 else {
            throw TerminalError("qmon: the dashboard needs a terminal (stdin and stdout must be a TTY); use a qmon subcommand for scripts")
        }
        guard let term = environment["TERM"], !term.isEmpty else {
            throw TerminalError("qmon: TERM is not set; set it to your terminal type (e.g. TERM=xterm-256color)")
        }
        if term == "dumb" { throw TerminalError("qmon: TERM=dumb cannot show a dashboard") }
        var err: Int32 = 0
        guard setupterm(term, 1, &err) == OK else {
            throw TerminalError("qmon: unknown terminal type TERM=\(term) (no terminfo entry)")
        }
        guard qmon_has_cursor_addressing() != 0 else {
            throw TerminalError("qmon: TERM=\(term) cannot move the cursor; a dashboard needs a full-screen terminal")
        }
        var rows: Int32 = 0, cols: Int32 = 0
        if qmon_window_size(1, &rows, &cols) == 0, rows > 0, cols > 0 {
            let size = TerminalSize(rows: Int(rows), columns: Int(cols))
            guard size.isUsable else {
                throw TerminalError("qmon needs at least 80×24 (now \(cols)×\(rows))")
            }
            return size
        }
        return TerminalSize.minimum
    }

    /// Opens the screen (after ``preflight(environment:)``).
    ///
    /// - Parameters:
    ///   - environment: The process environment (`NO_COLOR`).
    ///   - inputTimeoutMilliseconds: How long ``readKey()`` waits.
    /// - Throws: ``TerminalError`` when ncurses cannot open the terminal.
    public init(environment: [String: String] = ProcessInfo.processInfo.environment, inputTimeoutMilliseconds: Int32 = 100) throws(TerminalError) {
        setlocale(LC_ALL, "")
        if let codeset = nl_langinfo(nl_item(CODESET)), String(cString: codeset) != "UTF-8" {
            setlocale(LC_CTYPE, "C.UTF-8")
        }
        guard let out = fdopen(1, "w"), let inp = fdopen(0, "r"), let s = newterm(nil, out, inp) else {
            throw TerminalError("qmon: ncurses could not open the terminal (TERM=\(environment["TERM"] ?? ""))")
        }
        screen = s
        window = qmon_stdscr()
        cbreak()
        noecho()
        nonl()
        keypad(window, true)
        curs_set(0)
        qmon_set_ESCDELAY(25)
        wtimeout(window, inputTimeoutMilliseconds)
        let noColor = !(environment["NO_COLOR"] ?? "").isEmpty
        setUpStyles(color: !noColor && has_colors())
    }

    deinit { end() }

    /// Restores the terminal (cursor, echo, main screen). Safe to call more than once.
    public func end() {
        guard !ended, let s = screen else { return }
        ended = true
        curs_set(1)
        endwin()
        delscreen(s)
        screen = nil
    }

    public func size() -> TerminalSize {
        TerminalSize(rows: Int(getmaxy(window)), columns: Int(getmaxx(window)))
    }

    public func readKey() -> Key? {
        var ch: wint_t = 0
        let r = wget_wch(window, &ch)
        if r == ERR { return nil }
        let code = Int32(bitPattern: ch)
        if r == KEY_CODE_YES {
            switch code {
            case KEY_UP: return .up
            case KEY_DOWN: return .down
            case KEY_LEFT: return .left
            case KEY_RIGHT: return .right
            case KEY_PPAGE: return .pageUp
            case KEY_NPAGE: return .pageDown
            case KEY_HOME: return .home
            case KEY_END: return .end
            case KEY_ENTER: return .enter
            case KEY_BTAB: return .backTab
            case KEY_BACKSPACE, KEY_DC: return .backspace
            case KEY_RESIZE: return .resize
            default:
                for n in 1...12 where code == qmon_KEY_F(Int32(n)) { return .function(n) }
                return nil
            }
        }
        switch code {
        case 9: return .tab
        case 10, 13: return .enter
        case 27: return .escape
        case 8, 127: return .backspace
        default:
            guard code >= 32, let scalar = Unicode.Scalar(UInt32(code)) else { return nil }
            return .char(Character(scalar))
        }
    }

    public func draw(_ frame: Frame) {
        werase(window)
        let rows = Int(getmaxy(window)), cols = Int(getmaxx(window))
        for (y, row) in frame.rows.prefix(rows).enumerated() {
            wmove(window, Int32(y), 0)
            var used = 0
            for span in row.spans where !span.text.isEmpty {
                qmon_attrset(window, attributes[span.style] ?? qmon_A_NORMAL())
                put(span.text)
                used += DisplayWidth.of(span.text)
            }
            // Never write the bottom-right cell: some terminals scroll when it is written.
            let limit = y == rows - 1 ? cols - 1 : cols
            if let fill = row.fill, used < limit {
                qmon_attrset(window, attributes[fill] ?? qmon_A_NORMAL())
                put(String(repeating: " ", count: limit - used))
            }
        }
        qmon_attrset(window, qmon_A_NORMAL())
        wnoutrefresh(window)
        doupdate()
    }

    private func put(_ text: String) {
        var wide = text.unicodeScalars.map { wchar_t(bitPattern: $0.value) }
        wide.append(0)
        _ = wide.withUnsafeBufferPointer { waddwstr(window, $0.baseAddress) }
    }

    // MARK: Styles

    private func setUpStyles(color: Bool) {
        let bold = qmon_A_BOLD(), reverse = qmon_A_REVERSE(), dim = qmon_A_DIM(), underline = qmon_A_UNDERLINE()
        guard color else {
            attributes = [
                .normal: qmon_A_NORMAL(), .dim: dim, .bold: bold, .header: reverse | bold, .tabActive: reverse,
                .selected: reverse, .marked: bold, .success: qmon_A_NORMAL(), .failure: bold, .warning: bold,
                .revoked: bold | underline, .accent: bold, .sparkline: qmon_A_NORMAL(), .sparklineFailure: bold,
                .status: qmon_A_NORMAL(), .prompt: reverse | bold,
            ]
            return
        }
        start_color()
        use_default_colors()
        let rich = qmon_COLORS() >= 256
        var next: Int16 = 1
        func pair(_ fg: Int16, _ bg: Int16) -> attr_t {
            let n = next
            next += 1
            init_pair(n, fg, bg)
            return qmon_COLOR_PAIR(Int32(n))
        }
        let black = Int16(COLOR_BLACK), red = Int16(COLOR_RED), green = Int16(COLOR_GREEN), yellow = Int16(COLOR_YELLOW)
        let blue = Int16(COLOR_BLUE), magenta = Int16(COLOR_MAGENTA), cyan = Int16(COLOR_CYAN), white = Int16(COLOR_WHITE)
        attributes = [
            .normal: qmon_A_NORMAL(),
            .dim: rich ? pair(245, -1) : dim,
            .bold: bold,
            .header: pair(white, rich ? 24 : blue) | bold,
            .tabActive: pair(black, cyan) | bold,
            .selected: reverse,
            .marked: pair(yellow, -1) | bold,
            .success: pair(green, -1),
            .failure: pair(red, -1) | bold,
            .warning: pair(yellow, -1) | bold,
            .revoked: pair(magenta, -1) | bold,
            .accent: pair(cyan, -1),
            .sparkline: pair(green, -1),
            .sparklineFailure: pair(red, -1),
            .status: pair(cyan, -1),
            .prompt: pair(black, yellow) | bold,
        ]
    }
}
