import Celeriac

/// The workers screen: each worker's liveness (with the age of its latest heartbeat), pool,
/// concurrency, activity, load and software. Online/offline is the model's rule
/// (``WorkerState/isOnline(now:)``): heartbeats keep a worker online however long its tasks run.
enum WorkersLayout {
    static func body(model: ClusterState, view: ViewState, size: TerminalSize, now: Double) -> [Frame.Row] {
        let table = Table([
            .init(title: "WORKER", width: 18, priority: 10, flexible: true),
            .init(title: "STATUS", width: 14, priority: 10),
            .init(title: "PID", width: 7, alignRight: true, priority: 4),
            .init(title: "POOL", width: 8, priority: 3),
            .init(title: "CONC", width: 4, alignRight: true, priority: 6),
            .init(title: "ACTIVE", width: 6, alignRight: true, priority: 9),
            .init(title: "PROCESSED", width: 9, alignRight: true, priority: 8),
            .init(title: "LOAD", width: 14, priority: 5),
            .init(title: "VERSION", width: 15, priority: 2),
        ], width: size.columns)
        var rows = [table.header()]
        let workers = ViewState.workers(model)
        let height = ScreenGeometry.listHeight(.workers, size)
        let pos = view.position(.workers).normalized(count: workers.count, height: height)
        if workers.isEmpty { rows.append(Frame.Row([Frame.Span("no worker seen yet", .dim)])) }
        for i in pos.top..<min(workers.count, pos.top + height) {
            let w = workers[i]
            let online = w.isOnline(now: now)
            let since = w.lastHeartbeat ?? w.lastSeen
            var status = (online ? "online" : "OFFLINE") + (since.map { " " + Format.age(now - $0) } ?? "")
            if w.hasClockDrift { status += " ⚠" }
            let load = w.loadavg.map { $0.prefix(3).map { Format.fixed($0, 2) }.joined(separator: " ") } ?? "-"
            let version = [w.swIdent, w.swVer].compactMap { $0 }.joined(separator: " ")
            rows.append(table.row([
                (w.hostname, .normal),
                (status, online ? .success : .failure),
                (w.pid.map(String.init) ?? "-", .dim),
                (Format.poolName(w.pool), .normal),
                (w.concurrency.map(String.init) ?? "-", .normal),
                (w.active.map(String.init) ?? "-", (w.active ?? 0) > 0 ? .accent : .normal),
                (w.processed.map(Format.count) ?? "-", .normal),
                (load, .normal),
                (version.isEmpty ? "-" : version, .dim),
            ], selected: i == pos.selected))
        }
        return rows
    }
}
