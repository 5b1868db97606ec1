import Celeriac
import CeleriacTestSupport
import CeleriacTestTags
import Foundation
import Testing

/// A Swift client's workflows (``CanvasPlanner`` with no running task) against what Celery 5.7's
/// Python client sent for the same workflow in the captures: the same messages, byte for byte
/// but for `origin` and `delivery_tag`, in the same order, the chord size set before the last
/// header member.
@Suite(.tags(.unit)) struct CanvasPlannerTests {
    func planner(_ ids: [String], replyTo: String) -> CanvasPlanner {
        let source = CanvasFixtures.IDs(ids)
        return CanvasPlanner(context: CanvasContext(replyTo: replyTo, origin: "gen1@test", now: Date(), newID: { source.next() },
                                                    isRegistered: { _ in true }))
    }

    func expectSame(_ sent: TaskMessage?, _ captured: TaskMessage, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let sent else { Issue.record("nothing sent", sourceLocation: sourceLocation); return }
        let differences = CanvasFixtures.differences(sent, captured)
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))", sourceLocation: sourceLocation)
    }

    /// `chain(add.s(1, 2), mul.s(10), add.s(5)).apply_async()`.
    @Test func aChainIsItsFirstStepWithTheRestReversed() throws {
        let step1 = try CanvasFixtures.message("chain3_step1")
        let ids = try [CanvasFixtures.meta("chain3_step3").taskID, CanvasFixtures.meta("chain3_step2").taskID, step1.id]
        var p = planner(ids, replyTo: step1.replyTo)
        let result = try p.apply(.chain([Signature(task: "wireapp.add", args: [1, 2]), Signature(task: "wireapp.mul", args: [10]),
                                         Signature(task: "wireapp.add", args: [5])]))
        #expect(p.plan.messages.count == 1)
        expectSame(p.plan.messages.first, step1)
        #expect(result.id == ids[0], "the chain's result is its last step's")
    }

    /// `chord([add.s(i, i) for i in range(3)], tsum.s())()`.
    @Test func aChordSendsItsHeaderWithTheBodyAndSetsTheSizeBeforeTheLastMember() throws {
        let headers = try (0..<3).map { try CanvasFixtures.message("chord3_header\($0)") }
        let gid = try #require(headers[0].group)
        let bodyID = try #require(headers[0].chord["options"]?["task_id"]?.stringValue)
        var p = planner([gid, bodyID] + headers.map(\.id), replyTo: headers[0].replyTo)
        let result = try p.apply(.chord((0..<3).map { Signature(task: "wireapp.add", args: [.int($0), .int($0)]) },
                                        body: Signature(task: "wireapp.tsum")))
        #expect(result == .task(id: bodyID, parent: .group(id: gid, parent: nil, members: headers.map { .task(id: $0.id, parent: nil) })))
        let steps = p.plan.steps
        #expect(steps.count == 4)
        guard steps.count == 4 else { return }
        for (index, step) in [0, 1, 3].enumerated() {
            if case .publish(let m) = steps[step] { expectSame(m, headers[index]) } else { Issue.record("step \(step): \(steps[step])") }
        }
        #expect(steps[2] == .setChordSize(groupID: gid, size: 3))
    }
}
