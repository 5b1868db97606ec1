import Celeriac
import CeleriacMonitor
import Synchronization
import CeleriacTestTags
import Testing

/// A feed that hands out scripted batches, one per drain.
final class ScriptedFeed: MonitorFeed {
    private let batches: Mutex<[[MonitorInput]]>
    init(_ batches: [[MonitorInput]]) { self.batches = Mutex(batches) }
    func push(_ batch: [MonitorInput]) { batches.withLock { $0.append(batch) } }
    func drain() -> [MonitorInput] { batches.withLock { $0.isEmpty ? [] : $0.removeFirst() } }
}

/// Records actions and answers each with success (a retry gets a new task id).
final class RecordingPerformer: ActionPerformer {
    let performed = Mutex<[MonitorAction]>([])
    func perform(_ action: MonitorAction) async -> ActionOutcome {
        performed.withLock { $0.append(action) }
        if case .retry = action { return ActionOutcome(action: action, succeeded: true, message: "sent", newTaskID: "new-1") }
        return ActionOutcome(action: action, succeeded: true, message: "2 workers replied ok")
    }
}

@Suite(.tags(.integration), .timeLimit(.minutes(5))) struct MonitorLoopTests {
    typealias E = EventScript
    let size = TerminalSize(rows: 24, columns: 80)

    private func loop(_ feed: ScriptedFeed, performer: RecordingPerformer = RecordingPerformer()) -> MonitorLoop {
        MonitorLoop(model: ClusterState(), view: ViewState(connectionLabel: "redis://localhost:6379/0"), feed: feed, performer: performer)
    }

    /// Steps until `condition` holds (actions complete on other tasks). No deadline of its own:
    /// a 20 s one was hit in a loaded CI run, where long synchronous tests held both threads of
    /// the task pool and the action's task did not run in time; the suite's time limit is the
    /// backstop.
    private func stepUntil(_ l: MonitorLoop, now: Double, _ condition: () -> Bool) async {
        while !condition() {
            l.step(key: nil, size: size, now: now)
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    @Test func appliesFeedInputsAndDrawsOnlyWhenDue() {
        let feed = ScriptedFeed([[.events([E.heartbeat(.workerOnline, at: 100)], receivedAt: 100)]])
        let l = loop(feed)
        #expect(l.step(key: nil, size: size, now: 100) == nil)
        #expect(l.model.workers.count == 1)
        let first = l.frameIfDue(now: 100)
        #expect(first?.lines[0].contains("workers 1/1") == true)
        #expect(l.frameIfDue(now: 100.05) == nil)  // nothing changed, < 1 s
        feed.push([.events([E.received("a", at: 100.1)], receivedAt: 100.1)])
        l.step(key: nil, size: size, now: 100.06)
        #expect(l.frameIfDue(now: 100.06) == nil)  // changed, but < 100 ms since the last frame
        #expect(l.frameIfDue(now: 100.2) != nil)
        #expect(l.frameIfDue(now: 100.5) == nil)
        #expect(l.frameIfDue(now: 101.3) != nil)  // at least once a second
    }

    @Test func keysAreHandledAndQuitEndsTheLoop() {
        let l = loop(ScriptedFeed([]))
        l.step(key: .char("2"), size: size, now: 1)
        #expect(l.view.screen == .workers)
        #expect(l.step(key: .char("q"), size: size, now: 1) == .quit)
    }

    @Test func pauseFreezesTheDisplayButKeepsApplyingInputs() {
        let feed = ScriptedFeed([[.events([E.received("a", at: 1)], receivedAt: 1)]])
        let l = loop(feed)
        l.step(key: nil, size: size, now: 1)
        l.step(key: .char("p"), size: size, now: 2)
        feed.push([.events([E.received("b", at: 3)], receivedAt: 3)])
        l.step(key: .char("3"), size: size, now: 3)
        #expect(l.model.tasks.count == 2)
        #expect(l.displayedModel.tasks.count == 1)
        #expect(l.frame(now: 3).lines[2].contains("1 of 1 tasks"))
        #expect(l.frame(now: 3).lines[0].contains("PAUSED"))
        l.step(key: .char("p"), size: size, now: 4)
        #expect(l.frame(now: 4).lines[2].contains("2 of 2 tasks"))
    }

    @Test func confirmedActionIsPerformedAndItsOutcomeShown() async {
        let feed = ScriptedFeed([[.events([E.received("a", at: 1), E.started("a", at: 1.1)], receivedAt: 1)]])
        let performer = RecordingPerformer()
        let l = loop(feed, performer: performer)
        for key: Key in [.char("3"), .char("t"), .char("y")] { l.step(key: key, size: size, now: 2) }
        #expect(l.actionsInFlight == 1)
        await stepUntil(l, now: 2) { l.actionsInFlight == 0 }
        #expect(performer.performed.withLock { $0 } == [.revoke(taskIDs: ["a"], terminate: true, signal: "SIGTERM")])
        #expect(l.view.status?.tone == .success)
        #expect(l.frame(now: 2).lines[22].contains("terminate task a (SIGTERM): 2 workers replied ok"))
        // The status line goes away after a while.
        l.step(key: nil, size: size, now: 30)
        #expect(l.view.status == nil)
    }

    @Test func retryOutcomeLinksTheNewTask() async {
        let feed = ScriptedFeed([[.events([E.received("a", at: 1), E.failed("a", at: 1.2)], receivedAt: 1)]])
        let l = loop(feed)
        for key: Key in [.char("3"), .char("R"), .char("y")] { l.step(key: key, size: size, now: 2) }
        await stepUntil(l, now: 2) { l.actionsInFlight == 0 }
        #expect(l.model.tasks["a"]?.retriedAs == "new-1")
        #expect(l.model.tasks["new-1"]?.retryOf == "a")
        #expect(l.view.status?.text.contains("new task new-1") == true)
    }

    @Test func retryLinkedInputAndNoticesReachModelAndStatus() {
        let feed = ScriptedFeed([[.retryLinked(original: "x", resent: "y", at: 1), .notice("Redis unreachable, reconnecting")]])
        let l = loop(feed)
        l.step(key: nil, size: size, now: 1)
        #expect(l.model.tasks["y"]?.retryOf == "x")
        #expect(l.frame(now: 1).lines[22].contains("Redis unreachable"))
    }

    @Test func aSmallTerminalShowsTheMessageAndStillQuits() {
        let l = loop(ScriptedFeed([]))
        l.step(key: nil, size: TerminalSize(rows: 10, columns: 40), now: 1)
        #expect(l.frame(now: 1).lines[0] == "qmon needs at least 80×24 (now 40×10)")
        #expect(l.step(key: .char("q"), size: TerminalSize(rows: 10, columns: 40), now: 1) == .quit)
    }

    @Test func runDrivesAScreenUntilQuit() {
        final class FakeScreen: MonitorScreen {
            var keys: [Key?]
            var frames: [Frame] = []
            init(_ keys: [Key?]) { self.keys = keys }
            func size() -> TerminalSize { TerminalSize(rows: 24, columns: 80) }
            func readKey() -> Key? { keys.isEmpty ? .char("q") : keys.removeFirst() }
            func draw(_ frame: Frame) { frames.append(frame) }
        }
        let screen = FakeScreen([nil, .char("2"), nil])
        var t = 0.0
        let exit = loop(ScriptedFeed([])).run(on: screen, clock: { t += 0.2; return t }, stopSignal: { nil })
        #expect(exit == .quit)
        #expect(screen.frames.count >= 2)
        #expect(screen.frames.last?.lines[2].hasPrefix("WORKER") == true)
        let stopped = loop(ScriptedFeed([])).run(on: FakeScreen([nil]), clock: { 0 }, stopSignal: { 15 })
        #expect(stopped == .signal(15))
    }

    /// A budget for a debug build's layout: a wall-clock threshold, so tagged `timing` and left
    /// out of the default run (`scripts/test.sh --timing` runs it, on an otherwise idle machine).
    @Test(.tags(.timing)) func hundredThousandTasksLayOutQuickly() {
        var s = ClusterState()
        for i in 0..<100_000 {
            s.apply(E.received("t\(i)", i % 7 == 0 ? "app.other" : "app.add", at: Double(i)), receivedAt: Double(i))
        }
        var v = ViewState()
        v.screen = .tasks
        v.size = TerminalSize(rows: 35, columns: 120)
        let clock = ContinuousClock()
        // Best of three: the unit phase runs many tests at once on two cores, and one
        // preempted measurement says nothing about the layout's cost.
        func bestOfThree() -> Duration {
            (0..<3).map { _ in clock.measure { _ = Layout.layout(model: s, view: v, size: v.size, now: 100_000) } }.min()!
        }
        let everything = bestOfThree()
        #expect(everything < .milliseconds(50))
        v.query = TaskQuery(name: "app.other", search: "t9", sort: .name)
        v.refreshListing(model: s)
        let cached = bestOfThree()
        #expect(cached < .milliseconds(50))
        #expect(v.currentListing(model: s).count(in: s) > 0)
    }
}
