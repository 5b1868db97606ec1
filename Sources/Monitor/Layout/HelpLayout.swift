/// The help screen, generated from ``KeyMap/bindings`` so it lists exactly the keys that work.
/// Two columns on wide terminals; scrolls on small ones.
enum HelpLayout {
    static func entry(_ b: KeyMap.Binding, width: Int) -> Frame.Row {
        let keyWidth = 14
        return Frame.Row([
            Frame.Span(DisplayWidth.fit(b.keyLabel, to: keyWidth), .accent),
            Frame.Span(DisplayWidth.fit("\(b.help) (\(b.scope))", to: max(1, width - keyWidth))),
        ])
    }

    static func lines(width: Int, readOnly: Bool) -> [Frame.Row] {
        var bindings = KeyMap.bindings
        if readOnly { bindings.removeAll { $0.command.isAction } }
        var out: [Frame.Row] = []
        if readOnly { out.append(Frame.Row([Frame.Span("read-only mode: no actions are available", .warning)])) }
        if width >= 110 {
            let half = (bindings.count + 1) / 2
            let colWidth = width / 2 - 1
            for i in 0..<half {
                var row = entry(bindings[i], width: colWidth)
                row.spans.append(Frame.Span("  "))
                if i + half < bindings.count { row.spans += entry(bindings[i + half], width: colWidth).spans }
                out.append(row)
            }
        } else {
            out += bindings.map { entry($0, width: width) }
        }
        out.append(Frame.Row())
        out.append(Frame.Row([Frame.Span(
            "Actions ask for confirmation (purge: type the queue name). Pause freezes the display; events are still collected.",
            .dim)]))
        return out
    }

    static func body(view: ViewState, size: TerminalSize) -> [Frame.Row] {
        let all = lines(width: size.columns, readOnly: view.isReadOnly)
        let height = ScreenGeometry.listHeight(.help, size)
        let top = min(max(0, view.position(.help).top), max(0, all.count - height))
        return Array(all[top..<min(all.count, top + height)])
    }
}
