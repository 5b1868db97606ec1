@testable import CeleriacWorker
@testable import Celeriac
import CeleriacTestTags
import Foundation
import CeleriacTestSupport
import Logging
import Testing

/// What a Swift worker publishes and stores after a workflow's task ends, checked against what a
/// real Celery 5.7 worker did with the same message (`Tests/Fixtures/celery-wire/canvas/`): the
/// next message must be Celery's byte for byte, but for its `origin` and `delivery_tag`; ids a
/// worker makes up are fed from the capture.
@Suite(.tags(.unit)) struct WorkflowSettlementTests {
    func fixture(_ name: String) throws -> TaskMessage { try CanvasFixtures.message(name) }
    func meta(_ name: String) throws -> ResultMeta { try CanvasFixtures.meta(name) }

    /// The capture app's tasks (`scripts/capture/wireapp.py`) and their parameter counts.
    static let captureApp = ["wireapp.add": 2, "wireapp.mul": 2, "wireapp.tsum": 1, "wireapp.fail_with": 1, "wireapp.log_err_old": 1,
                             "wireapp.log_err_new": 3]

    func decide(_ ending: TaskSettlement.Ending, _ m: TaskMessage, ids: [String] = [], replyTo: String = "worker-oid",
                registered: [String: Int] = [:]) -> [TaskSettlement.Action] {
        let source = CanvasFixtures.IDs(ids)
        let context = TaskContext(id: m.id, name: m.name, hostname: "w@h", logger: Logger(label: "test"))
        var facts = TaskSettlement.Facts(message: m, options: TaskOptions(), context: context, acksLate: false, rejectOnWorkerLost: false,
                                         workerLostRedeliveries: 3, node: "w@h", origin: "gen1@h", now: Date(), runtime: 0.1)
        facts.workflow = WorkflowSettlement.Facts(replyTo: replyTo, newID: { source.next() },
                                                  registeredParameters: { name in registered[name] ?? Self.captureApp[name] })
        return TaskSettlement.decide(ending, facts)
    }

    func published(_ actions: [TaskSettlement.Action]) -> [TaskMessage] {
        actions.flatMap { action -> [TaskMessage] in if case .publish(let plan) = action { plan.messages } else { [] } }
    }

    /// Compares everything but `origin` and `delivery_tag`, which name the sending process.
    func expectSame(_ sent: TaskMessage?, _ captured: TaskMessage, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let sent else {
            Issue.record("nothing published where Celery sent \(captured.name)[\(captured.id)]", sourceLocation: sourceLocation)
            return
        }
        let differences = CanvasFixtures.differences(sent, captured)
        #expect(differences.isEmpty, "\(differences.joined(separator: "\n"))", sourceLocation: sourceLocation)
    }

    func storedSuccess(_ actions: [TaskSettlement.Action]) -> ResultMeta? {
        for case .store(let meta) in actions where meta.status == .success { return meta }
        return nil
    }

    @Test func theNextChainStepIsCeleryMessageAndTheParentsChildrenNameIt() throws {
        let step1 = try fixture("chain3_step1"), step2 = try fixture("chain3_step2"), step3 = try fixture("chain3_step3")
        let after1 = decide(.finished(.success(try meta("chain3_step1").result)), step1)
        expectSame(published(after1).first, step2)
        #expect(storedSuccess(after1)?.children == (try meta("chain3_step1").children), "children as Celery stores them")
        let after2 = decide(.finished(.success(try meta("chain3_step2").result)), step2)
        expectSame(published(after2).first, step3)
        let last = decide(.finished(.success(try meta("chain3_step3").result)), step3)
        #expect(published(last).isEmpty, "the last step (chain []) sends nothing")
        #expect(storedSuccess(last)?.children == .array([]))
    }

    @Test func anImmutableStepGetsNoResultPrepended() throws {
        let step1 = try fixture("chain_si_step1")
        let actions = decide(.finished(.success(try meta("chain_si_step1").result)), step1)
        expectSame(published(actions).first, try fixture("chain_si_step2_si"))
    }

    @Test func oneCallbackIsSentAloneAndTwoAsOneGroup() throws {
        let parent = try fixture("link_one_parent"), callback = try fixture("link_one_callback")
        let one = decide(.finished(.success(try meta("link_one_parent").result)), parent, ids: [callback.id], replyTo: callback.replyTo)
        expectSame(published(one).first, callback)
        #expect(storedSuccess(one)?.children == (try meta("link_one_parent").children))

        let parent2 = try fixture("link_two_parent"), cb0 = try fixture("link_two_callback0"), cb1 = try fixture("link_two_callback1")
        let two = decide(.finished(.success(try meta("link_two_parent").result)), parent2, ids: [try #require(cb0.group), cb0.id, cb1.id],
                         replyTo: cb0.replyTo)
        let sent = published(two)
        #expect(sent.count == 2)
        expectSame(sent.first, cb0)
        expectSame(sent.last, cb1)
        #expect(storedSuccess(two)?.children == (try meta("link_two_parent").children), "the GroupResult tuple, as Celery stores it")
    }

    @Test func aChainEndingInAGroupOrAChordIsAppliedByTheWorker() throws {
        let first = try fixture("chain_then_group_first")
        let toGroup = published(decide(.finished(.success(try meta("chain_then_group_first").result)), first))
        expectSame(toGroup.first, try fixture("chain_then_group_member0"))
        expectSame(toGroup.last, try fixture("chain_then_group_member1"))

        let chordFirst = try fixture("chain_then_chord_first")
        let actions = decide(.finished(.success(try meta("chain_then_chord_first").result)), chordFirst)
        guard case .publish(let plan)? = actions.first else { Issue.record("no plan: \(actions)"); return }
        let header0 = try fixture("chain_then_chord_header0"), header1 = try fixture("chain_then_chord_header1")
        #expect(plan.steps.count == 3)
        if plan.steps.count == 3 {
            if case .publish(let m) = plan.steps[0] { expectSame(m, header0) } else { Issue.record("first step: \(plan.steps[0])") }
            #expect(plan.steps[1] == .setChordSize(groupID: try #require(header0.group), size: 2), "the size is set before the last member, as Celery does")
            if case .publish(let m) = plan.steps[2] { expectSame(m, header1) } else { Issue.record("last step: \(plan.steps[2])") }
        }
    }

    @Test func aChordMemberReturnsItsPartAfterItsResultAndTheBodyIsCeleryMessage() throws {
        let body = try fixture("chord3_body")
        let completing = try #require(try ["chord3_header0", "chord3_header1", "chord3_header2"].map(fixture).first { $0.id == body.parentID })
        let actions = decide(.finished(.success(.int(4))), completing)
        let outline = actions.map { action -> String in
            switch action {
            case .store(let m): "store \(m.status.rawValue)"
            case .chordPart: "chordPart"
            case .report: "report"
            default: "other"
            }
        }
        #expect(outline == ["report", "store SUCCESS", "chordPart"], "the part is returned after the member's result is stored")
        guard case .chordPart(let r)? = actions.last else { return }
        #expect(r.part.groupID == body.group)
        #expect(String(decoding: r.part.entry, as: UTF8.self) == "[1, \"\(completing.id)\", \"SUCCESS\", 4]")
        #expect(r.part.score == String(try #require(completing.groupIndex)))

        // The join, once the parts are in: the body with the results in header order.
        guard case .complete(let results) = ChordJoin.decide(entries: [0, 2, 4].enumerated().map { i, v in
            ChordJoin.entry(taskID: "m\(i)", state: .success, result: .int(v))
        }) else { Issue.record("not complete"); return }
        var planner = CanvasPlanner(context: r.context)
        try planner.apply(r.callback, args: [.array(results)])
        expectSame(planner.plan.messages.first, body)
    }

    @Test func aFailingMemberFailsTheChordWithCeleryText() throws {
        let failed = try meta("chord_fail_body")
        let evals = try CanvasFixtures.json("chord_fail.evalsha.json")
        var entries: [(Int, [UInt8])] = []
        for call in evals.arrayValue ?? [] where call["script"] == "part-return" {
            let argv = call["argv"]?.arrayValue ?? []
            entries.append((Int(argv[3].stringValue ?? "") ?? 0, Array((argv[1].stringValue ?? "").utf8)))
        }
        let ordered = entries.sorted { $0.0 < $1.0 }.map(\.1)
        guard case .failed(let message) = ChordJoin.decide(entries: ordered) else { Issue.record("not failed"); return }
        #expect(ChordJoin.chordError(message).jsonValue == failed.result, "exactly the ChordError Celery stored")
    }

    @Test func aFailedChainStepFailsTheLaterStepsThenSendsItsOldStyleErrbacks() throws {
        let step = try fixture("chain_fail_step2_fails"), errback = try fixture("chain_fail_errback0")
        let error = TaskError(type: "ValueError", arguments: ["bad step"])
        let actions = decide(.finished(.failure(error)), step, ids: [try #require(errback.group), errback.id], replyTo: errback.replyTo)
        var stored: [String] = []
        for case .store(let m) in actions { stored.append("\(m.taskID) \(m.status.rawValue)") }
        let later = try [meta("chain_fail_step4"), meta("chain_fail_step3")]
        #expect(stored == ["\(step.id) FAILURE"] + later.map { "\($0.taskID) FAILURE" }, "later steps failed in the chain's wire order")
        for case .store(let m) in actions where m.taskID != step.id {
            #expect(m.parentID == nil && m.groupID == nil, "as Celery stores them: no parent, no group")
        }
        expectSame(published(actions).first, errback)
    }

    @Test func aNewStyleSwiftErrbackIsCalledInProcessAndAnUnknownOneIsSent() throws {
        let failedMessage = try fixture("errback_new_failed")
        let error = TaskError(type: "ValueError", arguments: ["boom new"])
        let errbackName = try #require(try Signature.list(failedMessage.errbacks).first?.task)
        let inProcess = decide(.finished(.failure(error)), failedMessage, registered: [errbackName: 3])
        #expect(published(inProcess).isEmpty, "no message for a new-style errback")
        guard case .callErrback(let call)? = inProcess.last else { Issue.record("\(inProcess)"); return }
        #expect(call.task == errbackName)
        #expect(call.arguments.args.count == 3 && call.arguments.args[0]["id"] == .string(failedMessage.id)
                && call.arguments.args[1] == error.exceptionInfo.jsonValue, "(request, exc, traceback)")

        let sent = decide(.finished(.failure(error)), failedMessage, registered: [errbackName: 1])
        #expect(published(sent).first?.args == [.string(failedMessage.id)], "one parameter: old-style, sent with the failed id")
    }

    @Test func aRetriedMemberReturnsNoPartAndSendsNothing() throws {
        let member = try fixture("chord3_header0")
        let retry = RetryRequest(eta: Date(), reason: TaskError(type: "RuntimeError", arguments: ["again"]))
        let actions = decide(.finished(.failure(retry)), member)
        #expect(published(actions).isEmpty)
        #expect(!actions.contains { if case .chordPart = $0 { true } else { false } }, "a retried member counts once, when it finally ends")
    }

    /// `raise self.replace(mul.s(x, 10))`, alone and as a chain's first step: the replacement
    /// goes out under the replaced task's id, its own child, one level deeper, carrying the rest
    /// of the chain; nothing is stored and no event is sent for the replaced run.
    @Test func aReplacedTaskSendsItsReplacementUnderItsIdAndStoresNothing() throws {
        for (original, replacement) in [("replace_replaced", "replace_replaced_2"), ("replace_in_chain_replaced", "replace_in_chain_replaced_2")] {
            let m = try fixture(original), sent = try fixture(replacement)
            let context = TaskContext(id: m.id, name: m.name, hostname: "w@h", logger: Logger(label: "test"))
            let actions = decide(.finished(.failure(context.replace(with: Signature(task: "wireapp.mul", args: [3, 10])))), m,
                                 replyTo: sent.replyTo)
            expectSame(published(actions).first, sent)
            #expect(published(actions).count == 1)
            #expect(!actions.contains { if case .store = $0 { true } else { false } }, "no result stored for the replaced run")
        }
    }

    /// The SHA1s Celery 5.7's redis-py calls them by (`EVALSHA` in the capture).
    @Test func theJoinScriptsAreCeleryOwnByteForByte() throws {
        #expect(try sha1(ChordScripts.partReturn) == "b8fc152c83a7e634103ccebd49dcd3146a8f4366")
        #expect(try sha1(ChordScripts.claimExtend) == "dc87180d6bcb7f73c7275eb0fe7a70baf0a8b7c7")
        #expect(try sha1(ChordScripts.cleanup) == "59d7aab41242d82196947ba8926cab712416da4f")
    }

    /// `sha1sum` (coreutils), as no listed library hashes.
    func sha1(_ text: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha1sum")
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
    }
}
