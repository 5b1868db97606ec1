import Celeriac
import CeleriacMonitor
import Foundation
import Synchronization
import CeleriacTestTags
import Testing

/// Workflows in qmon's model: trees from events and stored results, live, bounded.
@Suite(.tags(.unit)) struct WorkflowTreeTests {
    typealias E = EventScript

    /// A `task-received` as a Celery worker sends it for a workflow step.
    static func step(_ id: String, _ name: String = "demo.mul", root: String, parent: String?, at t: Double) -> CeleryEvent {
        .taskReceived(
            E.worker, clock: 10, timestamp: t, uuid: id, name: name, args: "(4, 10)", kwargs: "{}", rootID: root,
            parentID: parent, retries: 0, eta: nil, expires: nil)
    }

    /// `chain(add.s(2, 2), mul.s(10), mul.s(3))` as a Python worker reports it: each step's
    /// parent is the previous one, all share the first as root.
    static func chain(_ s: inout ClusterState, done: Bool = true) {
        s.apply(step("a", "demo.add", root: "a", parent: nil, at: 1), receivedAt: 1)
        s.apply(E.succeeded("a", at: 1.1), receivedAt: 1.1)
        s.apply(step("b", root: "a", parent: "a", at: 1.2), receivedAt: 1.2)
        s.apply(E.succeeded("b", at: 1.3), receivedAt: 1.3)
        s.apply(step("c", root: "a", parent: "b", at: 1.4), receivedAt: 1.4)
        if done { s.apply(E.succeeded("c", at: 1.5), receivedAt: 1.5) }
    }

    /// `chord([add.s(1, 1), add.s(2, 2)], echo.s())()` from a client, as measured with Celery
    /// 5.7: each header member is its own root with no parent; the body's parent and root are
    /// the member that completed the header. Only the stored results name the group.
    static func chord(_ s: inout ClusterState) {
        s.apply(step("m1", "demo.add", root: "m1", parent: nil, at: 1), receivedAt: 1)
        s.apply(step("m2", "demo.add", root: "m2", parent: nil, at: 1.01), receivedAt: 1.01)
        s.apply(E.succeeded("m1", at: 1.1), receivedAt: 1.1)
        s.apply(step("body", "demo.echo", root: "m2", parent: "m2", at: 1.2), receivedAt: 1.2)
        s.apply(E.succeeded("m2", at: 1.21), receivedAt: 1.21)
        s.apply(E.succeeded("body", at: 1.3), receivedAt: 1.3)
    }

    static let chordResults: [ResultMeta] = [
        .success(taskID: "m1", result: .int(2), now: Date(), groupID: "g"),
        .success(taskID: "m2", result: .int(4), now: Date(), groupID: "g"),
        .success(taskID: "body", result: .array([.int(2), .int(4)]), now: Date(), parentID: "m2", groupID: "g"),
    ]

    private func lines(_ tree: WorkflowTree) -> [String] {
        tree.rows.map { row in
            switch row.node {
            case .task(let id): row.prefix + id
            case .group(let g): row.prefix + "group " + g
            case .missing(let id): row.prefix + "missing " + id
            }
        }
    }

    @Test func aChainIsAPathFromEveryStep() {
        var s = ClusterState()
        Self.chain(&s)
        s.apply(E.received("alone", at: 1.25), receivedAt: 1.25)
        for start in ["a", "b", "c"] {
            #expect(lines(WorkflowTree(around: start, in: s)) == ["a", "└─ b", "   └─ c"], "from \(start)")
        }
        #expect(lines(WorkflowTree(around: "alone", in: s)) == ["alone"])
    }

    @Test func theTreeFollowsEventsLive() {
        var s = ClusterState()
        Self.chain(&s, done: false)
        #expect(s.tasks["c"]?.state == .received)
        s.apply(E.started("c", at: 1.45), receivedAt: 1.45)
        var tree = WorkflowTree(around: "a", in: s)
        #expect(tree.taskIDs == ["a", "b", "c"] && s.tasks["c"]?.state == .started)
        // A step added to the chain's end (a link) appears under the step that sent it.
        s.apply(Self.step("d", root: "a", parent: "c", at: 1.6), receivedAt: 1.6)
        tree = WorkflowTree(around: "b", in: s)
        #expect(lines(tree) == ["a", "└─ b", "   └─ c", "      └─ d"])
    }

    @Test func aChordIsAGroupNodeWithTheBodyUnderTheMemberThatCompletedIt() {
        var s = ClusterState()
        Self.chord(&s)
        // Events alone: the body hangs under the member that completed the header.
        #expect(lines(WorkflowTree(around: "body", in: s)) == ["m2", "└─ body"])
        s.noteResults(Self.chordResults, requested: ["m1", "m2", "body"])
        #expect(s.tasks["m1"]?.groupID == "g" && s.tasks["body"]?.groupID == "g")
        let expected = ["group g", "├─ m1", "└─ m2", "   └─ body"]
        for start in ["m1", "m2", "body"] { #expect(lines(WorkflowTree(around: start, in: s)) == expected, "from \(start)") }
    }

    @Test func childrenFromAResultAreLinkedAndMissingOnesShow() {
        var s = ClusterState()
        s.apply(E.received("p", at: 1), receivedAt: 1)
        s.apply(E.succeeded("p", at: 1.1), receivedAt: 1.1)
        s.apply(E.received("k1", at: 1.2), receivedAt: 1.2)  // its task-received had no parent_id
        // A group started by p: `[[gid, parent], [members…]]`, as Celery stores it.
        let children: JSONValue = .array([
            .array([.array([.string("g2"), .null]), .array([
                .array([.array([.string("k1"), .null]), .null]),
                .array([.array([.string("k2"), .null]), .null]),
            ])]),
        ])
        s.noteResults([.success(taskID: "p", result: .null, now: Date(), children: children)], requested: ["p"])
        #expect(s.tasks["p"]?.childIDs == ["k1", "k2"])
        #expect(s.tasks["k1"]?.parentID == "p" && s.tasks["k1"]?.groupID == "g2")
        #expect(lines(WorkflowTree(around: "k1", in: s)) == ["p", "├─ k1", "└─ missing k2"])
        #expect(s.unreadResultIDs(near: ["p", "k1"]).isEmpty, "p was read, k1 is not finished")
    }

    @Test func resultChildrenReadCeleryTuplesAndIgnoreGarbage() {
        let tuples: JSONValue = .array([
            .array([.array([.string("x"), .null]), .null]),
            .array([.array([.string("g"), .null]), .array([.array([.array([.string("y"), .null]), .null])])]),
            .string("garbage"), .array([.int(1)]),
        ])
        let (children, total) = ResultChildren.parse(tuples, limit: 1)
        #expect(children == [.init(id: "x", groupID: nil)] && total == 2)
        #expect(ResultChildren.parse(.null).total == 0)
        // Nesting beyond the fixed depth is not followed (a crafted value cannot recurse).
        var deep: JSONValue = .array([.array([.array([.string("leaf"), .null]), .null])])
        for i in 0..<20 { deep = .array([.array([.array([.string("g\(i)"), .null]), deep])]) }
        #expect(ResultChildren.parse(deep).total == 0)
    }

    @Test func resultsAreAskedForOnlyForFinishedUnreadTasksNearTheWorkflow() {
        var s = ClusterState()
        Self.chord(&s)
        s.apply(E.received("later", at: 100), receivedAt: 100)
        s.apply(E.succeeded("later", at: 100.5), receivedAt: 100.5)
        // The body's workflow knows m2; m1 is a possible sibling (sent with it), "later" is not.
        #expect(Set(s.unreadResultIDs(near: ["body", "m2"])) == ["body", "m2", "m1"])
        s.noteResults(Array(Self.chordResults.prefix(1)), requested: ["m1", "m2", "body"])
        #expect(s.unreadResultIDs(near: ["body", "m2"]).isEmpty, "asked once, found or not")
    }

    @Test func theTreeIsBoundedInNodes() {
        var s = ClusterState()
        s.apply(Self.step("r", root: "r", parent: nil, at: 0), receivedAt: 0)
        for i in 0..<50 { s.apply(Self.step("k\(i)", root: "r", parent: "r", at: 1), receivedAt: 1) }
        let tree = WorkflowTree(around: "r", in: s, maxNodes: 10)
        #expect(tree.rows.count == 10 && tree.isTruncated)
        #expect(!WorkflowTree(around: "r", in: s).isTruncated)
    }
}

/// The bytes workflows add to qmon's held tasks: bounded and counted in the budget.
@Suite(.tags(.memoryBounds)) struct WorkflowMemoryTests {
    typealias E = EventScript

    @Test func childListsAreBoundedAndCountedInTheByteBudget() {
        var s = ClusterState()
        s.apply(E.received("p", at: 1), receivedAt: 1)
        let before = s.tasks.approximateBytes
        let ids = (0..<1_000).map { "child-\($0)-" + String(repeating: "x", count: 30) }
        let children: JSONValue = .array(ids.map { .array([.array([.string($0), .null]), .null]) })
        s.noteResults([.success(taskID: "p", result: .null, now: Date(), groupID: "group-" + String(repeating: "g", count: 40), children: children)])
        let record = s.tasks["p"]!
        #expect(record.childIDs.count == TaskRecord.maxChildIDs && record.childCount == 1_000)
        let grown = s.tasks.approximateBytes - before
        // 32 ids of 38 bytes (64 each in malloc's count), the array and the group id are counted.
        #expect(grown >= TaskRecord.maxChildIDs * 64 && grown < 4_096, "grew \(grown)")
        // A budget that held the records before is enforced after the results too.
        var small = ClusterState(configuration: .init(maxTaskBytes: 2_000))
        for i in 0..<20 {
            small.apply(E.received("t\(i)", at: Double(i)), receivedAt: Double(i))
            small.noteResults([.success(taskID: "t\(i)", result: .null, now: Date(), children: children)])
            #expect(small.tasks.approximateBytes <= 2_000 || small.tasks.count == 1)
        }
        #expect(small.tasks.evictedCount > 0)
    }
}
