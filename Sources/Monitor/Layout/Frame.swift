/// One screenful of styled text: what a layout produces and the screen draws.
///
/// Frames are plain values so layouts can be tested without a terminal (render them with
/// ``lines``), and the screen can draw one in a single pass without asking the model anything.
/// Every row's display width is at most ``columns`` (layouts guarantee it; ``Frame/init(rows:columns:)``
/// also clips, so a layout bug can never wrap a line and corrupt the screen).
public struct Frame: Sendable, Hashable {
    /// How a span looks. The screen maps each to colours, or to bold/reverse/dim with `NO_COLOR`.
    public enum Style: Sendable, Hashable, CaseIterable {
        case normal, dim, bold, header, tabActive, selected, marked, success, failure, warning, revoked,
            accent, sparkline, sparklineFailure, status, prompt
    }

    /// A run of text in one style.
    public struct Span: Sendable, Hashable {
        /// The text; never contains control characters (see ``DisplayWidth/sanitize(_:)``).
        public var text: String
        /// How it looks.
        public var style: Style

        /// Creates a span.
        public init(_ text: String, _ style: Style = .normal) {
            self.text = text
            self.style = style
        }
    }

    /// One screen line.
    public struct Row: Sendable, Hashable {
        /// The spans, left to right.
        public var spans: [Span]
        /// When set, the rest of the line after the spans is filled in this style (selection bars, headers).
        public var fill: Style?

        /// Creates a row.
        public init(_ spans: [Span] = [], fill: Style? = nil) {
            self.spans = spans
            self.fill = fill
        }

        /// The row's text without styles.
        public var text: String { spans.map(\.text).joined() }
        /// Display width of the text (wide characters count 2).
        public var width: Int { spans.reduce(0) { $0 + DisplayWidth.of($1.text) } }
    }

    /// The rows, top to bottom; at most the screen's row count.
    public private(set) var rows: [Row]
    /// The width every row fits in.
    public let columns: Int

    /// Creates a frame, clipping each row to `columns` display columns.
    ///
    /// - Parameters:
    ///   - rows: Rows, top to bottom.
    ///   - columns: The screen width.
    public init(rows: [Row], columns: Int) {
        self.columns = columns
        self.rows = rows.map { Self.clip($0, to: columns) }
    }

    /// The rows as plain strings (for tests, and `--dump`-style output).
    public var lines: [String] { rows.map(\.text) }

    private static func clip(_ row: Row, to columns: Int) -> Row {
        guard row.width > columns else { return row }
        var out = Row(fill: row.fill)
        var left = columns
        for span in row.spans where left > 0 {
            let w = DisplayWidth.of(span.text)
            if w <= left {
                out.spans.append(span)
                left -= w
            } else {
                out.spans.append(Span(DisplayWidth.prefix(span.text, width: left), span.style))
                left = 0
            }
        }
        return out
    }
}
