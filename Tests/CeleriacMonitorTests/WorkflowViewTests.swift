import Celeriac
import CeleriacMonitor
import Foundation
import Synchronization
import CeleriacTestTags
import Testing

/// A reader of stored results that answers from a table and records what it was asked.
final class TableResultReader: ResultMetaReader {
    let table: [String: ResultMeta]
    let asked = Mutex<[[String]]>([])
    init(_ metas: [ResultMeta]) { table = Dictionary(uniqueKeysWithValues: metas.map { ($0.taskID, $0) }) }
    func read(ids: [String]) async throws -> [ResultMeta] {
        asked.withLock { $0.append(ids) }
        return ids.compactMap { table[$0] }
    }
}

/// The workflow screen and the task detail's links, driven by keys as an operator would.
@Suite(.tags(.unit), .timeLimit(.minutes(1))) struct WorkflowViewTests {
    typealias E = EventScript
    typealias W = WorkflowTreeTests
    let size = TerminalSize(rows: 24, columns: 100)

    private func press(_ keys: [Key], _ v: inout ViewState, _ model: ClusterState) -> [Effect] {
        keys.compactMap { k in
            v.refreshWorkflow(model: model)
            return KeyMap.command(for: k, textEntry: v.isTextEntry).map { v.handle($0, model: model) }
        }
    }

    private func screen(_ model: ClusterState, _ v: ViewState) -> String {
        var v = v
        v.refreshWorkflow(model: model)
        return Layout.layout(model: model, view: v, size: size, now: 10).lines.joined(separator: "\n")
    }

    private func chainModel() -> ClusterState {
        var s = ClusterState()
        W.chain(&s, done: false)
        return s
    }

    @Test func wOpensTheWorkflowFromTheTaskListAndEnterOpensANode() {
        let s = chainModel()
        var v = ViewState()
        v.size = size
        v.screen = .tasks
        v.refreshListing(model: s)
        // Newest first: c, b, a. Select b and press W.
        _ = press([.char("j"), .char("W")], &v, s)
        #expect(v.screen == .workflow("b"))
        #expect(v.position(.workflow).selected == 1, "the task it was opened from is selected")
        let text = screen(s, v)
        #expect(text.contains("› workflow of b"))
        #expect(text.contains("demo.add (4, 10)") && text.contains("└─ demo.mul") && text.contains("   └─ demo.mul"), "\(text)")
        #expect(text.contains("3 tasks, 2 finished"))
        #expect(text.contains("W workflow") == false && text.contains("Esc back"), "footer: \(text)")
        _ = press([.char("j"), .enter], &v, s)
        #expect(v.screen == .taskDetail("c"))
        _ = press([.escape], &v, s)
        #expect(v.screen == .workflow("b"))
        _ = press([.escape], &v, s)
        #expect(v.screen == .tasks)
    }

    @Test func theWorkflowScreenShowsStatesRuntimesAndWorkersLive() {
        var s = chainModel()
        var v = ViewState()
        v.size = size
        v.screen = .workflow("a")
        var text = screen(s, v)
        #expect(text.contains("RECEIVED") && text.contains("SUCCESS") && text.contains("w1@host"), "\(text)")
        s.apply(E.succeeded("c", at: 1.6, runtime: 0.25), receivedAt: 1.6)
        v.modelVersion += 1
        text = screen(s, v)
        #expect(!text.contains("RECEIVED") && text.contains("3 tasks, 3 finished") && text.contains("250ms"), "\(text)")
    }

    @Test func theDetailListsItsLinksAndEnterOpensTheSelectedOne() {
        var s = ClusterState()
        W.chord(&s)
        s.noteResults(W.chordResults, requested: [])
        var v = ViewState()
        v.size = size
        v.screen = .tasks
        v.refreshListing(model: s)
        // Newest first: body, m2, m1. Open m2's detail: its group, the other member, the body.
        _ = press([.char("j"), .enter], &v, s)
        #expect(v.screen == .taskDetail("m2"))
        var text = screen(s, v)
        #expect(text.contains("Group        g"), "\(text)")
        #expect(text.contains("Chord body   body  demo.echo  SUCCESS"), "\(text)")
        #expect(text.contains("Group member m1  demo.add  SUCCESS"), "\(text)")
        // j selects the next link (the member), Enter opens it.
        _ = press([.char("j"), .enter], &v, s)
        #expect(v.screen == .taskDetail("m1"))
        _ = press([.escape], &v, s)
        // From the body: its parent (the member that completed the header) and the header.
        v.screen = .taskDetail("body")
        v.positions[.detail] = ListPosition()
        text = screen(s, v)
        #expect(text.contains("Parent       m2") && text.contains("Chord header m1"), "\(text)")
        _ = press([.enter], &v, s)
        #expect(v.screen == .taskDetail("m2"))
        _ = press([.char("W")], &v, s)
        #expect(v.screen == .workflow("m2"))
        text = screen(s, v)
        #expect(text.contains("group (2 members, 2 finished)") && text.contains("├─ demo.add") && text.contains("   └─ demo.echo"), "\(text)")
        #expect(text.contains("chord body → 5"), "the body says what it is: \(text)")
    }

    @Test func aDetailWithoutLinksStillScrollsWithJ() {
        var s = ClusterState()
        s.apply(E.received("solo", at: 1), receivedAt: 1)
        s.apply(E.failed("solo", at: 2, traceback: (0..<80).map { "line \($0)" }.joined(separator: "\n")), receivedAt: 2)
        var v = ViewState()
        v.size = size
        v.screen = .taskDetail("solo")
        _ = press([.char("j")], &v, s)
        #expect(v.position(.detail).top == 1)
    }

    @Test func theLoopReadsStoredResultsForTheWorkflowOnScreenAndTheGroupAppears() async throws {
        var s = ClusterState()
        W.chord(&s)
        let reader = TableResultReader(W.chordResults)
        let loop = MonitorLoop(model: s, view: ViewState(), feed: ScriptedFeed([]), performer: RecordingPerformer(), results: reader)
        loop.step(key: nil, size: size, now: 10)
        #expect(reader.asked.withLock { $0.isEmpty }, "nothing is read on the overview")
        loop.step(key: .char("3"), size: size, now: 10)
        loop.step(key: .char("W"), size: size, now: 10)  // the newest task: the body
        #expect(loop.view.screen == .workflow("body"))
        // No deadline of its own (the read runs on another task); the suite's time limit ends
        // it, and the thrown cancellation stops the wait.
        while loop.model.tasks["m1"]?.groupID == nil {
            loop.step(key: nil, size: size, now: 10)
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(Set(reader.asked.withLock { $0.first ?? [] }) == ["body", "m2", "m1"])
        let text = loop.frame(now: 10).lines.joined(separator: "\n")
        #expect(text.contains("group (2 members, 2 finished)"), "\(text)")
        // Everything read: no further requests, however long the screen stays.
        for t in 11..<15 { loop.step(key: nil, size: size, now: Double(t)) }
        #expect(reader.asked.withLock { $0.count } == 1)
    }

    @Test func helpAndQmonHelpListTheWorkflowKey() {
        #expect(KeyMap.helpText.contains("W") && KeyMap.helpText.contains("workflow: the task's workflow as a live tree"))
        let help = Layout.layout(model: ClusterState(), view: { var v = ViewState(); v.screen = .help; return v }(), size: TerminalSize(rows: 60, columns: 120), now: 0)
        #expect(help.lines.joined().contains("workflow: the task's workflow"))
    }
}
