public import Celeriac
import CeleriacMonitor
import Foundation

/// What `qbench monitor-probe` measures in a child process of its own, so that nothing else in
/// the benchmark's memory blurs the figure.
public enum MonitorProbe {
    /// Resident bytes of one qmon model as it sees more and more tasks (store bounded by
    /// `maxTasks`): the stream runs once, to the largest of `checkpoints`, and `VmRSS` is read
    /// as the count of tasks seen passes each checkpoint.
    ///
    /// One process for all checkpoints, as a long-running `qmon` is: a fresh process per count
    /// would also measure which library pages each run happened to touch, which moved the
    /// figure by a few hundred KB between identical runs while malloc's bytes in use differed
    /// by under a kilobyte.
    public static func memory(checkpoints: [Int], maxTasks: Int) throws -> JSONObject {
        let marks = checkpoints.sorted()
        guard let last = marks.last else { return ["checkpoints": .array([])] }
        var state = ClusterState(configuration: .init(maxTasks: maxTasks))
        // Read once before the stream: the first read pulls the reading code's own pages in
        // (Foundation's file and string paths), which would otherwise count at the first
        // checkpoint only.
        let baseline = ProcessMemory.residentBytes(pid: getpid()) ?? 0
        var samples: [JSONValue] = [["checkpoint": 0, "tasks_seen": 0, "rss_bytes": .int(baseline)]]
        var next = 0
        try MonitorIngest.feed(&state, tasks: last) { state in
            let seen = state.tasks.count + state.tasks.evictedCount
            while next < marks.count, seen >= marks[next] {
                let rss = ProcessMemory.residentBytes(pid: getpid()) ?? 0
                samples.append([
                    "checkpoint": .int(marks[next]), "tasks_seen": .int(seen), "rss_bytes": .int(rss),
                    "tasks_held": .int(state.tasks.count), "events": .int(state.eventCount),
                ])
                next += 1
            }
        }
        return ["checkpoints": .array(samples)]
    }

    /// Milliseconds to lay out and draw one frame of the Tasks and of the Overview screen with
    /// `tasks` tasks in the store, on a real ncurses screen (this process's terminal): the
    /// median over `frames` frames, for each of `runs` runs. Between frames a batch of events
    /// arrives (not timed), so every frame shows a changed model, as in a live dashboard.
    ///
    /// Needs stdin and stdout to be a terminal: the benchmark runs it in a tmux pane.
    public static func frames(tasks: Int, frames: Int, runs: Int) throws -> JSONObject {
        var state = ClusterState()
        try MonitorIngest.feed(&state, tasks: tasks)
        var more: [[CeleryEvent]] = []
        try EventStream.generate(tasks: frames * runs * 2 * 8, batching: .multi, start: 1_800_000_000) { payload, _ in
            more.append(try EventCodec.decode(channel: nil, payload: payload))
        }
        try CursesScreen.preflight()
        let screen = try CursesScreen()
        defer { screen.end() }
        var view = ViewState(connectionLabel: "redis://127.0.0.1/0")
        view.size = screen.size()
        var result = JSONObject()
        var batch = 0
        for (name, target) in [("tasks", Screen.tasks), ("overview", Screen.overview)] {
            view.screen = target
            var medians: [Double] = []
            for _ in 0..<runs {
                var times: [Double] = []
                for _ in 0..<frames {
                    if batch < more.count {
                        state.apply(contentsOf: more[batch], receivedAt: Date().timeIntervalSince1970)
                        batch += 1
                    }
                    view.modelVersion += 1
                    let start = ContinuousClock.now
                    view.refreshListing(model: state)
                    let frame = Layout.layout(model: state, view: view, size: view.size, now: Date().timeIntervalSince1970)
                    screen.draw(frame)
                    times.append((ContinuousClock.now - start).inSeconds * 1000)
                }
                medians.append(Sample(times)!.median)
            }
            result.append(name + "_ms", .array(medians.map(JSONValue.double)))
        }
        result.append("tasks_held", .int(state.tasks.count))
        result.append("size", .string("\(view.size.columns)x\(view.size.rows)"))
        return result
    }
}
