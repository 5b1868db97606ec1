import Celeriac

/// The overview: cluster totals, one-minute sparklines of successes and failures per second,
/// a table per task name (rate, run time percentiles, counts) and the queue depths.
enum OverviewLayout {
    static let sparkChars: [Character] = ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    /// One character per second: blank for 0, else ▁…█ scaled to the series' maximum.
    static func sparkline(_ series: [Int]) -> String {
        let peak = series.max() ?? 0
        return String(series.map { v -> Character in
            guard v > 0, peak > 0 else { return " " }
            let level = (v * 8 + peak - 1) / peak  // 1...8, a single event is visible
            return sparkChars[min(max(level, 1), 8) - 1]
        })
    }

    static func body(model: ClusterState, summary s: ClusterSummary, view: ViewState, size: TerminalSize, now: Double) -> [Frame.Row] {
        let width = size.columns
        var rows: [Frame.Row] = []
        rows.append(Frame.Row([
            Frame.Span("Workers ", .bold), Frame.Span("\(s.workersOnline) online / \(s.workersTotal)   "),
            Frame.Span("Tasks ", .bold),
            Frame.Span("\(Format.rate(s.tasksPerSecond))/s now, \(Format.rate(s.tasksPerSecondLastMinute))/s 1m, \(Format.rate(s.tasksPerSecondLast15Minutes))/s 15m   "),
            Frame.Span("Failed ", .bold), Frame.Span("\(s.failuresPerMinute)/min", s.failuresPerMinute > 0 ? .failure : .normal),
            Frame.Span("   Events \(Format.rate(s.eventsPerSecond))/s, \(Format.count(s.totalEvents)) total   Held \(Format.count(s.tasksHeld))", .dim),
        ]))
        // The sparkline takes the last seconds that fit (60 at 80 columns and up).
        let labelWidth = 11
        let sparkWidth = max(10, min(s.succeededPerSecond.count, width - labelWidth - 14))
        let ok = Array(s.succeededPerSecond.suffix(sparkWidth))
        let failed = Array(s.failedPerSecond.suffix(sparkWidth))
        rows.append(Frame.Row([
            Frame.Span(DisplayWidth.fit("succeeded", to: labelWidth), .success), Frame.Span(sparkline(ok), .sparkline),
            Frame.Span(" max \(ok.max() ?? 0)/s", .dim),
        ]))
        rows.append(Frame.Row([
            Frame.Span(DisplayWidth.fit("failed", to: labelWidth), .failure), Frame.Span(sparkline(failed), .sparklineFailure),
            Frame.Span(" max \(failed.max() ?? 0)/s", .dim),
        ]))
        rows.append(Frame.Row([Frame.Span("last \(sparkWidth) s, one column per second", .dim)]))

        let table = Table([
            .init(title: "TASK NAME", width: 20, priority: 10, flexible: true),
            .init(title: "RATE/S", width: 7, alignRight: true, priority: 9),
            .init(title: "P50", width: 7, alignRight: true, priority: 8),
            .init(title: "P95", width: 7, alignRight: true, priority: 8),
            .init(title: "P99", width: 7, alignRight: true, priority: 7),
            .init(title: "SUCCEEDED", width: 9, alignRight: true, priority: 9),
            .init(title: "FAILED", width: 7, alignRight: true, priority: 9),
            .init(title: "ACTIVE", width: 6, alignRight: true, priority: 6),
            .init(title: "LAST ERROR", width: 24, priority: 2, flexible: true),
        ], width: width)
        rows.append(table.header())
        let types = ViewState.taskTypes(model)
        let height = ScreenGeometry.listHeight(.overview, size)
        let pos = view.position(.overview).normalized(count: types.count, height: height)
        if types.isEmpty {
            rows.append(Frame.Row([Frame.Span("no task events yet: are workers started with -E (task events)?", .dim)]))
        }
        for i in pos.top..<min(types.count, pos.top + height) {
            let t = types[i]
            let p = t.runtimePercentiles
            let failedCount = t.count(in: .failure)
            rows.append(table.row([
                (t.name, .normal),
                (Format.rate(t.completedRate(over: 60, now: now)), .normal),
                (Format.duration(p?.p50), .normal), (Format.duration(p?.p95), .normal), (Format.duration(p?.p99), .normal),
                (Format.count(t.count(in: .success)), .success),
                (Format.count(failedCount), failedCount > 0 ? .failure : .dim),
                (Format.count(t.count(in: .started)), .normal),
                (t.lastError.map { $0.exception } ?? "", .failure),
            ], selected: view.screen == .overview && i == pos.selected))
        }
        let bodyHeight = ScreenGeometry.bodyHeight(size)
        while rows.count < bodyHeight - 1 { rows.append(Frame.Row()) }
        rows.append(queuesLine(model: model, width: width))
        return rows
    }

    static func queuesLine(model: ClusterState, width: Int) -> Frame.Row {
        var spans = [Frame.Span("Queues ", .bold)]
        if model.queues.isEmpty {
            spans.append(Frame.Span(model.queuesUpdatedAt == nil ? "not polled yet" : "none", .dim))
        }
        for (k, q) in model.queues.enumerated() {
            if k > 0 { spans.append(Frame.Span(" · ", .dim)) }
            spans.append(Frame.Span(DisplayWidth.sanitize(q.name) + " "))
            spans.append(Frame.Span(Format.count(q.total), q.total > 0 ? .accent : .dim))
        }
        return Frame.Row(spans)
    }
}
