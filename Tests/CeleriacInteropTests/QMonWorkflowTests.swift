import Celeriac
import CeleriacTestSupport
import Foundation
import CeleriacTestTags
import Testing

/// The real `qmon` workflow view in tmux while a Python client runs a chain and a chord on a
/// real Celery worker: the tree an operator sees, with each node's state, live.
@Suite(.tags(.integration), .serialized, .timeLimit(.minutes(3))) struct QMonWorkflowTests {
    /// Runs a three-step chain and a two-member chord from a Python client and prints the ids:
    /// the chain's steps first to last, the chord's members and body.
    private static let client = """
        import json
        from celery import chain, chord
        from demoapp import add, mul, echo
        c = chain(add.s(2, 2), mul.s(10), mul.s(3))()
        assert c.get(timeout=30) == 120
        d = chord([add.s(1, 1), add.s(2, 2)], echo.s())()
        assert d.get(timeout=30) == [2, 4]
        print(json.dumps({"chain": [c.parent.parent.id, c.parent.id, c.id],
                          "members": [r.id for r in d.parent.results], "body": d.id}))
        """

    /// The tree's row of a task: the ID column shows its first 7 characters and an ellipsis.
    private func row(_ screen: String, of id: String) -> String? {
        screen.split(separator: "\n").first { $0.contains(id.prefix(7) + "…") }.map(String.init)
    }

    @Test func theWorkflowViewShowsAChainAsAPathAndAChordAsAGroupWithItsBody() async throws {
        let h = try InteropHarness()
        defer { h.close() }
        let worker = try h.startPythonWorker(name: "flow", arguments: ["-E"])
        defer { worker.stopNow() }
        let qmon = TestEnvironment.binDirectory.appendingPathComponent("qmon").path
        let tmux = try TmuxSession(command: "\(qmon) --broker \(h.server.urlString) --read-only")
        defer { tmux.kill() }
        _ = try await tmux.waitFor("Overview", timeout: .seconds(30))
        // The worker must be sending events before the workflow runs: qmon sees only live events.
        try tmux.send("2")
        try await tmux.waitFor(timeout: .seconds(60), "the worker online") { $0.contains("flow@") && $0.contains("online") }

        let run = try ChildProcess(
            "workflow-client", executable: TestEnvironment.python, arguments: ["-c", Self.client],
            environment: h.pythonEnvironment, workingDirectory: TestEnvironment.interopDirectory, logDirectory: h.logs)
        let status = await run.wait(timeout: .seconds(90))
        #expect(status == 0, "\(run.output)")
        let printed = try #require(run.output.split(separator: "\n").last { $0.hasPrefix("{") })
        let ids = try JSONParser.parse(String(printed))
        let chainIDs = (ids["chain"]?.arrayValue ?? []).compactMap(\.stringValue)
        let members = (ids["members"]?.arrayValue ?? []).compactMap(\.stringValue)
        let body = ids["body"]?.stringValue ?? ""
        try #require(chainIDs.count == 3 && members.count == 2 && !body.isEmpty, "\(printed)")

        // The chain, opened from its last step: a path of three, each under the previous.
        try openWorkflow(of: chainIDs[2], tmux)
        let chainTree = try await tmux.waitFor(timeout: .seconds(30), "the chain's tree") {
            $0.contains("› workflow of \(chainIDs[2])") && $0.contains("3 tasks, 3 finished")
        }
        let first = try #require(row(chainTree, of: chainIDs[0]), "\(chainTree)")
        let second = try #require(row(chainTree, of: chainIDs[1]), "\(chainTree)")
        let third = try #require(row(chainTree, of: chainIDs[2]), "\(chainTree)")
        #expect(first.hasPrefix("demo.add (2, 2)") && first.contains("SUCCESS") && first.contains("flow@"), "\(chainTree)")
        #expect(second.hasPrefix("└─ demo.mul (4, 10)") && second.contains("SUCCESS"), "\(chainTree)")
        #expect(third.hasPrefix("   └─ demo.mul (40, 3)") && third.contains("SUCCESS") && third.contains("→ 120"), "\(chainTree)")

        // The chord, opened from its body: the group node with both members (learned from the
        // stored results, which qmon reads for the workflow on screen) and the body under the
        // member that completed the header.
        try tmux.send("Escape")
        try openWorkflow(of: body, tmux)
        let chordTree = try await tmux.waitFor(timeout: .seconds(30), "the chord's tree") {
            $0.contains("› workflow of \(body)") && $0.contains("group (2 members, 2 finished)") && $0.contains("3 tasks, 3 finished")
        }
        let bodyLine = try #require(row(chordTree, of: body), "\(chordTree)")
        #expect(bodyLine.hasPrefix("   └─ demo.echo ([2, 4],)") && bodyLine.contains("SUCCESS"), "\(chordTree)")
        for m in members {
            let memberLine = try #require(row(chordTree, of: m), "\(chordTree)")
            #expect(memberLine.hasPrefix("├─ demo.add") || memberLine.hasPrefix("└─ demo.add"), "\(chordTree)")
            #expect(memberLine.contains("SUCCESS"), "\(chordTree)")
        }
        // Enter on the body opens its detail, whose links name the member as its parent.
        try tmux.send("G", "Enter")
        let detail = try await tmux.waitFor(timeout: .seconds(10), "the body's detail") { $0.contains("› task \(body)") }
        #expect(detail.contains("Parent") && detail.contains("Chord header"), "\(detail)")
    }

    /// Tasks screen, search for the id, then W on the one row found.
    private func openWorkflow(of id: String, _ tmux: TmuxSession) throws {
        try tmux.send("3", "c", "/")
        try tmux.type(String(id.prefix(13)))
        try tmux.send("Enter", "W")
    }
}
