@testable import CeleriacWorker
import Celeriac
import Foundation
import Logging
import CeleriacTestTags
import Testing

/// What the worker decides once a task body ended, without Redis: each ending and option gives
/// the actions Celery's worker would take, in its order.
@Suite(.tags(.unit)) struct TaskSettlementTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func facts(_ message: TaskMessage? = nil, options: TaskOptions = TaskOptions(), acksLate: Bool = false,
               rejectOnWorkerLost: Bool = false) -> TaskSettlement.Facts {
        let m = message ?? TaskMessage(name: "shop.total", id: "t-1", args: [.int(2)], deliveryTag: "tag-1", rootID: "root", parentID: "parent")
        let context = TaskContext(id: m.id, name: m.name, retries: m.retries, hostname: "w@h", logger: Logger(label: "test"), options: options)
        return TaskSettlement.Facts(message: m, options: options, context: context, acksLate: acksLate, rejectOnWorkerLost: rejectOnWorkerLost,
                                    workerLostRedeliveries: 3, node: "w@h", origin: "gen1@h", now: now, runtime: 0.25,
                                    random: { $0.lowerBound })
    }

    /// One word per action, with the state stored: the order is what these tests check.
    func outline(_ actions: [TaskSettlement.Action]) -> [String] {
        actions.map { action in
            switch action {
            case .publishRetry: "publishRetry"
            case .keepOriginal: "keepOriginal"
            case .report(.succeeded): "report succeeded"
            case .report(.failed): "report failed"
            case .report(.retried): "report retried"
            case .report(.revoked): "report revoked"
            case .report(.requeuedAfterLostProcess): "report requeued"
            case .report(.replaced): "report replaced"
            case .store(let meta): "store \(meta.status.rawValue)"
            case .requeue: "requeue"
            case .deadLetter: "deadLetter"
            case .ack: "ack"
            case .publish(let plan): "publish " + plan.messages.map(\.name).joined(separator: ",")
            case .chordPart(let r): "chordPart \(r.part.groupID)"
            case .callErrback(let call): "callErrback \(call.task)"
            }
        }
    }

    func stored(_ actions: [TaskSettlement.Action]) -> ResultMeta? {
        for case .store(let meta) in actions { return meta }
        return nil
    }

    @Test func aReturnedValueIsReportedAndStoredAndAckedOnlyWhenLate() {
        let early = TaskSettlement.decide(.finished(.success(.int(7))), facts())
        #expect(outline(early) == ["report succeeded", "store SUCCESS"], "acked when it started")
        let late = TaskSettlement.decide(.finished(.success(.int(7))), facts(acksLate: true))
        #expect(outline(late) == ["report succeeded", "store SUCCESS", "ack"], "acked after the result is stored")
        let meta = stored(late)
        #expect(meta?.result == .int(7) && meta?.taskID == "t-1" && meta?.parentID == "parent" && meta?.dateDone == now)
    }

    /// Every task's actions are an array of these, copied on the plain drain's path: the cases
    /// carrying a message, a plan, a chord part or an errback call stay out of line, so the
    /// workflows add nothing to it (inline, a chord part made it 298 bytes). 256 is a store's
    /// ``ResultMeta``, the largest case every task has.
    @Test func workflowsAddNothingToAnActionsSize() {
        #expect(MemoryLayout<TaskSettlement.Action>.size <= 256, "\(MemoryLayout<TaskSettlement.Action>.size) bytes")
    }

    /// What most tasks end with needs no waiting, so the worker carries it out without an async
    /// frame per task (``Worker/carryOutAtOnce(_:for:context:_:)``); a late ack or a retry waits.
    @Test func anEarlyAckedSuccessOrFailureNeedsNoWaiting() {
        let success = TaskSettlement.decide(.finished(.success(.int(7))), facts())
        let failure = TaskSettlement.decide(.finished(.failure(TaskError(type: "ValueError", arguments: []))), facts())
        let immediate = { (actions: [TaskSettlement.Action]) in actions.allSatisfy { $0.isImmediate } }
        #expect(immediate(success) && immediate(failure))
        let late = TaskSettlement.decide(.finished(.success(.int(7))), facts(acksLate: true))
        #expect(!immediate(late))
        let retry = TaskSettlement.decide(.finished(.failure(RetryRequest(eta: now + 5, reason: TaskError(type: "E", arguments: [])))), facts())
        #expect(!immediate(retry))
    }

    @Test func aThrownErrorKeepsTheOriginalBeforeTheFailureIsStored() {
        let actions = TaskSettlement.decide(.finished(.failure(TaskError(type: "ValueError", arguments: [.string("no stock")]))), facts(acksLate: true))
        #expect(outline(actions) == ["keepOriginal", "report failed", "store FAILURE", "ack"])
        #expect(stored(actions)?.exception?.type == "ValueError")
        #expect(stored(actions)?.traceback?.contains("Swift task shop.total[t-1] on w@h") == true)
    }

    /// Celery's retry: same id, one more retry, an ETA, parent_id its own id, a new delivery tag,
    /// published before RETRY is stored.
    @Test func aRetryRequestPublishesTheNextMessageFirst() throws {
        let eta = now.addingTimeInterval(30)
        var m = TaskMessage(name: "shop.total", id: "t-1", deliveryTag: "tag-1", retries: 1, redelivered: true)
        m.extraHeaders["redelivered"] = .bool(true)
        let actions = TaskSettlement.decide(.finished(.failure(RetryRequest(eta: eta, reason: TaskError(type: "Timeout", arguments: [.string("slow")])))),
                                            facts(m, acksLate: true))
        #expect(outline(actions) == ["publishRetry", "report retried", "store RETRY", "ack"])
        guard case .publishRetry(let next) = actions[0] else { Issue.record("no retry published"); return }
        #expect(next.id == "t-1" && next.retries == 2 && next.eta == eta && next.parentID == "t-1" && next.origin == "gen1@h")
        #expect(next.deliveryTag != "tag-1" && !next.redelivered && next.extraHeaders["redelivered"] == nil)
    }

    @Test func retriesAtIntMaxSaturateInsteadOfTrapping() {
        let m = TaskMessage(name: "shop.total", id: "t-1", deliveryTag: "tag-1", retries: .max)
        let actions = TaskSettlement.decide(.finished(.failure(RetryRequest(eta: now, reason: TaskError(type: "E", arguments: [.string("")])))), facts(m))
        guard case .publishRetry(let next) = actions.first else { Issue.record("no retry published"); return }
        #expect(next.retries == .max)
    }

    /// `autoretry_for`: a listed error type becomes a retry, until `max_retries` runs out.
    @Test func autoretryTurnsAListedErrorIntoARetryUntilRetriesRunOut() {
        let options = TaskOptions(maxRetries: 2, autoretryFor: ["ConnectionError"])
        let error = TaskError(type: "ConnectionError", arguments: [.string("refused")])
        let first = TaskSettlement.decide(.finished(.failure(error)), facts(options: options))
        #expect(outline(first) == ["publishRetry", "report retried", "store RETRY"])
        let last = TaskMessage(name: "shop.total", id: "t-1", deliveryTag: "tag-1", retries: 2)
        let exhausted = TaskSettlement.decide(.finished(.failure(error)), facts(last, options: options))
        #expect(outline(exhausted) == ["keepOriginal", "report failed", "store FAILURE"])
        #expect(stored(exhausted)?.exception?.type == "ConnectionError")
        let unlisted = TaskSettlement.decide(.finished(.failure(TaskError(type: "KeyError", arguments: [.string("x")]))), facts(options: options))
        #expect(outline(unlisted) == ["keepOriginal", "report failed", "store FAILURE"])
    }

    @Test func timeLimitsFailWithBilliardsErrors() {
        let hard = TaskSettlement.decide(.hardLimit(5), facts())
        #expect(outline(hard) == ["keepOriginal", "report failed", "store FAILURE"])
        #expect(stored(hard)?.exception?.type == "TimeLimitExceeded")
        let soft = TaskSettlement.decide(.softLimit(2), facts())
        #expect(stored(soft)?.exception?.type == "SoftTimeLimitExceeded")
        // As a Python body catching nothing: autoretry_for may list the soft limit's error.
        let retried = TaskSettlement.decide(.softLimit(2), facts(options: TaskOptions(autoretryFor: ["SoftTimeLimitExceeded"])))
        #expect(outline(retried) == ["publishRetry", "report retried", "store RETRY"])
    }

    @Test func aTerminatedTaskIsRevoked() {
        let actions = TaskSettlement.decide(.terminated(signal: 15), facts(acksLate: true))
        #expect(outline(actions) == ["report revoked", "store REVOKED", "ack"])
    }

    /// A cold shutdown stopped the body: the message goes back, nothing is stored or acked.
    @Test func anInterruptedTaskGoesBackRedelivered() {
        let actions = TaskSettlement.decide(.interrupted, facts(acksLate: true))
        #expect(outline(actions) == ["requeue"])
        guard case .requeue(let again) = actions[0] else { return }
        #expect(again.redelivered && again.deliveryTag == "tag-1")
    }

    @Test func aLostPoolProcessIsAFailureUnlessRejectOnWorkerLost() {
        let plain = TaskSettlement.decide(.poolProcessLost(reason: "signal 9"), facts(acksLate: true))
        #expect(outline(plain) == ["keepOriginal", "report failed", "store FAILURE", "ack"])
        #expect(stored(plain)?.exception?.type == "WorkerLostError")
        // reject_on_worker_lost needs acks_late, as in Celery.
        let early = TaskSettlement.decide(.poolProcessLost(reason: "signal 9"), facts(rejectOnWorkerLost: true))
        #expect(outline(early) == ["keepOriginal", "report failed", "store FAILURE"])
    }

    /// With acks_late and reject_on_worker_lost the message goes back counting the loss, and
    /// past the allowed redeliveries it is dead-lettered and failed instead of looping.
    @Test func aMessageThatKeepsKillingItsPoolProcessIsDeadLetteredNotLooped() {
        let requeued = TaskSettlement.decide(.poolProcessLost(reason: "signal 9"), facts(acksLate: true, rejectOnWorkerLost: true))
        #expect(outline(requeued) == ["report requeued", "requeue"])
        guard case .requeue(let again) = requeued[1] else { return }
        #expect(again.extraHeaders[LostWorkers.header] == .int(1) && again.redelivered)

        var m = TaskMessage(name: "shop.total", id: "t-1", deliveryTag: "tag-1")
        m.extraHeaders[LostWorkers.header] = .int(3)
        let options = TaskOptions(rejectOnWorkerLost: true)
        let lettered = TaskSettlement.decide(.poolProcessLost(reason: "signal 9"), facts(m, options: options, acksLate: true))
        #expect(outline(lettered) == ["deadLetter", "keepOriginal", "report failed", "store FAILURE"], "no ack: the dead letter took it off")
        guard case .deadLetter(let reason) = lettered[0] else { return }
        #expect(reason.contains("lost its pool process 4 times"))
    }
}
