/// Columns that fit the screen: when the terminal is narrow, the least important columns are
/// dropped whole (never squeezed into nonsense), and flexible columns share what is left.
struct Table {
    /// One column.
    struct Column {
        var title: String
        /// Width, or minimum width of a flexible column.
        var width: Int
        var alignRight = false
        /// Higher is kept longer when space runs out.
        var priority = 5
        /// Takes a share of spare width.
        var flexible = false
    }

    let columns: [Column]
    /// Indices of the visible columns, in order, with their widths.
    let visible: [(index: Int, width: Int)]

    /// Chooses the visible columns for `width` display columns (one space between columns).
    init(_ columns: [Column], width: Int) {
        self.columns = columns
        var shown = Array(columns.indices)
        func total(_ s: [Int]) -> Int { s.reduce(0) { $0 + columns[$1].width } + max(0, s.count - 1) }
        while total(shown) > width, shown.count > 1 {
            let drop = shown.min { (columns[$0].priority, -$0) < (columns[$1].priority, -$1) }!
            shown.removeAll { $0 == drop }
        }
        var widths = shown.map { columns[$0].width }
        let flex = shown.indices.filter { columns[shown[$0]].flexible }
        var spare = width - total(shown)
        if spare > 0, !flex.isEmpty {
            let each = spare / flex.count
            for (k, i) in flex.enumerated() {
                let extra = k == flex.count - 1 ? spare : each
                widths[i] += extra
                spare -= extra
            }
        }
        visible = zip(shown, widths).map { ($0, $1) }
    }

    /// Whether a column (by index) is shown.
    func shows(_ index: Int) -> Bool { visible.contains { $0.index == index } }

    /// The header row.
    func header() -> Frame.Row {
        row(columns.map { ($0.title, Frame.Style.bold) }, fill: .bold)
    }

    /// A row from one cell per column (text and style); hidden columns' cells are skipped.
    /// - Parameter selected: Draw the whole row in the selection style.
    func row(_ cells: [(String, Frame.Style)], selected: Bool = false, fill: Frame.Style? = nil) -> Frame.Row {
        var spans: [Frame.Span] = []
        for (k, v) in visible.enumerated() {
            let (text, style) = v.index < cells.count ? cells[v.index] : ("", .normal)
            let cell = DisplayWidth.fit(DisplayWidth.sanitize(text), to: v.width, alignRight: columns[v.index].alignRight)
            spans.append(Frame.Span(cell + (k == visible.count - 1 ? "" : " "), selected ? .selected : style))
        }
        return Frame.Row(spans, fill: selected ? .selected : fill)
    }
}
