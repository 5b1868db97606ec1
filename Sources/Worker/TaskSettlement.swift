import Celeriac
import Foundation

/// What the worker does once a task body has ended: a pure decision from how it ended and the
/// message's options, returned as actions the worker carries out in order.
///
/// Everything Celery's `Request.on_success` / `on_failure` / `on_retry` and the worker's
/// strategy decide lives here: which state is stored, which event is sent, whether the message is
/// acked, put back or dead-lettered, whether a retry is published. Nothing here touches Redis or
/// the clock (``Facts/now`` is given), so each decision is a unit test without a redis-server;
/// workflows (chain steps, chord parts, callbacks) are further actions of the same list.
enum TaskSettlement {
    /// How a body ended, as the pool reported it.
    enum Ending: Sendable {
        /// The body returned, or threw (a thrown ``RetryRequest`` asks for a retry).
        case finished(Result<JSONValue, any Error>)
        /// The hard time limit stopped it.
        case hardLimit(Double)
        /// The soft time limit cancelled it and it did not finish on its own.
        case softLimit(Double)
        /// `revoke(terminate=True)` stopped it with this signal.
        case terminated(signal: Int)
        /// A cold shutdown stopped it before it finished.
        case interrupted
        /// Its pool process died under it (`--pool process`): a crash, `kill -9`, the OOM killer.
        case poolProcessLost(reason: String)
    }

    /// Why a task failed, for the lines the worker logs about it.
    enum FailureCause: Equatable, Sendable {
        case raised
        case hardLimit(Double)
        case softLimit(Double)
        case poolProcessLost
    }

    /// How the task ended, as the worker reports it: one log line (or two) and its task event.
    enum Report: Sendable {
        /// `task-succeeded`.
        case succeeded(JSONValue, runtime: Double)
        /// `task-failed`.
        case failed(TaskError, traceback: String, cause: FailureCause)
        /// `task-retried`.
        case retried(RetryRequest, traceback: String)
        /// `task-revoked` (terminated).
        case revoked(signal: Int)
        /// Replaced by a workflow under the same id (`self.replace`): no event, nothing stored.
        case replaced(by: String)
        /// Put back on its queue after its pool process died (`reject_on_worker_lost`): no event,
        /// as Celery's requeue sends none.
        case requeuedAfterLostProcess(TaskError, losses: Int, allowed: Int)
    }

    /// One thing to do, in the order given.
    ///
    /// The cases that carry a whole message, a plan, a chord part or an errback call are
    /// `indirect`: a ``TaskMessage`` is 504 bytes inline, and every action of every task (a
    /// success is a report and a store) would be that big, in its array and in each copy, for the
    /// sake of a retry, a requeue or a workflow.
    enum Action: Sendable {
        /// Publish the retry's message (same id, `retries + 1`, an ETA) before RETRY is stored.
        indirect case publishRetry(TaskMessage)
        /// Keep the original message (bounded, with a TTL) so `qmon retry` can re-send it exactly;
        /// before the FAILURE is stored, so whoever sees the failure can already retry it.
        case keepOriginal
        /// Log the end and send its event.
        case report(Report)
        /// Store this state in the result backend (unless the task ignores results).
        case store(ResultMeta)
        /// Put this version of the message back on its queue instead of acking it.
        indirect case requeue(TaskMessage)
        /// Move the message to the dead-letter list with the reason, instead of acking it.
        case deadLetter(reason: String)
        /// Ack the message (`acks_late`), once the results before it are stored.
        case ack
        /// Publish what a workflow applies (callbacks, the next chain step, old-style errbacks),
        /// with chord sizes set before their headers' last members.
        indirect case publish(CanvasPlan)
        /// Return a chord member's part after its result is stored, and join the chord if this
        /// part completes it.
        indirect case chordPart(ChordPartReturn)
        /// Call a new-style errback (a Swift task taking `(request, exc, traceback)`) in-process.
        indirect case callErrback(ErrbackCall)

        /// Whether it is done without waiting for anything (queued writes, a log line, an
        /// event): most tasks' actions are only these.
        var isImmediate: Bool {
            switch self {
            case .keepOriginal, .report, .store: true
            case .publishRetry, .requeue, .deadLetter, .ack, .publish, .chordPart, .callErrback: false
            }
        }
    }

    /// What the decision needs besides the ending.
    struct Facts: Sendable {
        var message: TaskMessage
        /// The task's options (autoretry, reject on worker lost).
        var options: TaskOptions
        /// The running task's context: a retry is built from it as `self.retry()` builds one.
        var context: TaskContext
        /// The message is acked after it ran (so this decision acks it).
        var acksLate: Bool
        /// The worker's `task_reject_on_worker_lost`.
        var rejectOnWorkerLost: Bool
        /// Times a message may go back after its pool process died before it is dead-lettered.
        var workerLostRedeliveries: Int
        /// This worker's node name, for tracebacks.
        var node: String
        /// Where a retry's message says it comes from (`gen<pid>@host`, as Celery's producer).
        var origin: String
        var now: Date
        /// Seconds the body ran.
        var runtime: Double
        /// The `random` used for autoretry's jitter (injected so tests are deterministic).
        var random: @Sendable (ClosedRange<Int>) -> Int = { Int.random(in: $0) }
        /// How workflows are applied (ids, queues, the chord join's settings).
        var workflow = WorkflowSettlement.Facts()
    }

    /// The actions for a body that ended as `ending`.
    static func decide(_ ending: Ending, _ facts: Facts) -> [Action] {
        let m = facts.message
        switch ending {
        case .interrupted:
            // The task did not finish: its message goes back (even if it was acked at start)
            // rather than being recorded as a failure.
            var again = m
            again.markRedelivered()
            return [.requeue(again)]
        case .terminated(let signal):
            var actions: [Action] = [.report(.revoked(signal: signal)),
                                     .store(.revoked(taskID: m.id, reason: "terminated", now: facts.now, parentID: m.parentID, groupID: m.group))]
            if let part = WorkflowSettlement.chordPart(of: m, state: .revoked, result: ExceptionInfo.revoked("terminated").jsonValue,
                                                       facts.workflow, origin: facts.origin, now: facts.now) {
                actions.append(part)
            }
            return settled(actions, facts)
        case .poolProcessLost(let reason):
            return poolProcessLost(reason: reason, facts)
        case .hardLimit(let limit):
            let error = TaskError(type: "TimeLimitExceeded", arguments: [.double(limit)], module: "billiard.exceptions")
            return failedUnlessAutoretried(error, cause: .hardLimit(limit), facts)
        case .softLimit(let limit):
            let error = TaskError(type: "SoftTimeLimitExceeded", arguments: [.string("SoftTimeLimitExceeded(\(PythonRepr.floatRepr(limit)),)")],
                                  module: "billiard.exceptions")
            return failedUnlessAutoretried(error, cause: .softLimit(limit), facts)
        case .finished(.success(let value)):
            guard WorkflowSettlement.isInWorkflow(m) else {
                return settled([.report(.succeeded(value, runtime: facts.runtime)),
                                .store(.success(taskID: m.id, result: value, now: facts.now, parentID: m.parentID, groupID: m.group))], facts)
            }
            return succeededInWorkflow(value, facts)
        case .finished(.failure(let request as RetryRequest)):
            return retried(request, facts)
        case .finished(.failure(let replacement as TaskReplacement)):
            return replaced(by: replacement.signature, facts)
        case .finished(.failure(let thrown)):
            return failedUnlessAutoretried(TaskError.from(thrown), cause: .raised, facts)
        }
    }

    /// `autoretry_for`: a listed error type becomes a retry with Celery's backoff, until
    /// `max_retries` runs out; any other error is a failure.
    private static func failedUnlessAutoretried(_ error: TaskError, cause: FailureCause, _ facts: Facts) -> [Action] {
        guard facts.options.autoretryFor.contains(error.type) else { return failed(error, cause: cause, facts) }
        let delay = facts.options.autoretryDelay(retries: facts.message.retries, random: facts.random)
        switch facts.context.retry(countdown: delay, error: error) {
        case let request as RetryRequest: return retried(request, facts)
        case let exhausted: return failed(TaskError.from(exhausted), cause: cause, facts)
        }
    }

    /// SUCCESS of a workflow's task: callbacks and the next chain step published first (so the
    /// stored `children` name them), then the result, then the chord part. A workflow in the
    /// message that cannot be read fails the task instead, as it fails Celery's tracer.
    private static func succeededInWorkflow(_ value: JSONValue, _ facts: Facts) -> [Action] {
        let m = facts.message
        let applied: (plan: CanvasPlan, children: [ResultTuple])
        do {
            applied = try WorkflowSettlement.afterSuccess(value, of: m, facts.workflow, origin: facts.origin, now: facts.now)
        } catch {
            return failed(TaskError(type: "ValueError", arguments: [.string("invalid workflow in the message: \(error)")]), cause: .raised, facts)
        }
        var actions: [Action] = applied.plan.steps.isEmpty ? [] : [.publish(applied.plan)]
        actions.append(.report(.succeeded(value, runtime: facts.runtime)))
        actions.append(.store(.success(taskID: m.id, result: value, now: facts.now, parentID: m.parentID, groupID: m.group,
                                       children: .array(applied.children.map(\.jsonValue)))))
        if let part = WorkflowSettlement.chordPart(of: m, state: .success, result: value, facts.workflow, origin: facts.origin, now: facts.now) {
            actions.append(part)
        }
        return settled(actions, facts)
    }

    /// After a FAILURE is stored, for a workflow's task: its chord part, the rest of its chain
    /// failed, its errbacks.
    private static func workflowFailure(_ error: TaskError, traceback: String, _ facts: Facts) -> [Action] {
        guard WorkflowSettlement.isInWorkflow(facts.message) else { return [] }
        return WorkflowSettlement.afterFailure(error.exceptionInfo, traceback: traceback, of: facts.message, facts.workflow,
                                               origin: facts.origin, now: facts.now)
    }

    /// `self.replace(sig)`: the replacement is sent under this task's id, then, as for Celery's
    /// `Ignore`, the message is acked with nothing stored and no event sent.
    private static func replaced(by signature: Signature, _ facts: Facts) -> [Action] {
        let plan: CanvasPlan
        do {
            plan = try WorkflowSettlement.replaced(by: signature, of: facts.message, facts.workflow, origin: facts.origin, now: facts.now)
        } catch {
            return failed(TaskError(type: "ImproperlyConfigured", arguments: [.string(error.details)], module: "celery.exceptions"), cause: .raised, facts)
        }
        return settled([.publish(plan), .report(.replaced(by: signature.task))], facts)
    }

    /// `actions`, then the ack when the message is acked after it ran.
    private static func settled(_ actions: [Action], _ facts: Facts) -> [Action] {
        facts.acksLate ? actions + [.ack] : actions
    }

    /// FAILURE: the original kept for `qmon retry`, `task-failed`, the result stored.
    private static func failed(_ error: TaskError, cause: FailureCause, _ facts: Facts) -> [Action] {
        let m = facts.message
        return settled([
            .keepOriginal,
            .report(.failed(error, traceback: traceback(error, facts), cause: cause)),
            .store(.failure(taskID: m.id, exception: error.exceptionInfo, traceback: traceback(error, facts), now: facts.now,
                            parentID: m.parentID, groupID: m.group)),
        ] + workflowFailure(error, traceback: traceback(error, facts), facts), facts)
    }

    /// As Celery's retry: the same task id, `retries + 1`, an ETA, `parent_id` its own id, a fresh
    /// delivery tag; published before RETRY is stored and the old message acked.
    private static func retried(_ request: RetryRequest, _ facts: Facts) -> [Action] {
        let m = facts.message
        var next = m
        // `retries` comes off the wire: Int.max stays Int.max instead of trapping.
        next.retries = min(m.retries, Int.max - 1) + 1
        next.eta = request.eta
        next.parentID = m.id
        next.deliveryTag = UUID().uuidString.lowercased()
        next.redelivered = false
        next.extraHeaders["redelivered"] = nil
        next.origin = facts.origin
        let traceback = traceback(request.reason, facts)
        return settled([
            .publishRetry(next),
            .report(.retried(request, traceback: traceback)),
            .store(.retry(taskID: m.id, exception: request.reason.exceptionInfo, traceback: traceback, parentID: m.parentID, groupID: m.group)),
        ], facts)
    }

    /// A pool process died mid-task. As Celery: FAILURE `WorkerLostError`; but with `acks_late`
    /// and `reject_on_worker_lost` the message goes back to its queue instead, at most
    /// ``Facts/workerLostRedeliveries`` times, then it is dead-lettered (and recorded as failed)
    /// rather than kill child after child forever.
    private static func poolProcessLost(reason: String, _ facts: Facts) -> [Action] {
        let m = facts.message
        let error = TaskError(type: "WorkerLostError", arguments: [.string(reason)], module: "billiard.exceptions")
        let traceback = "Traceback (most recent call last):\n  Swift task \(m.name)[\(m.id)] on \(facts.node)\nbilliard.exceptions.WorkerLostError: \(reason)\n"
        let failure: [Action] = [
            .keepOriginal,
            .report(.failed(error, traceback: traceback, cause: .poolProcessLost)),
            .store(.failure(taskID: m.id, exception: error.exceptionInfo, traceback: traceback, now: facts.now, parentID: m.parentID, groupID: m.group)),
        ] + workflowFailure(error, traceback: traceback, facts)
        guard facts.acksLate && (facts.options.rejectOnWorkerLost || facts.rejectOnWorkerLost) else { return settled(failure, facts) }
        let losses = LostWorkers.counting(m)
        guard losses > facts.workerLostRedeliveries else {
            var again = m
            again.extraHeaders[LostWorkers.header] = .int(losses)
            again.markRedelivered()
            return [.report(.requeuedAfterLostProcess(error, losses: losses, allowed: facts.workerLostRedeliveries)), .requeue(again)]
        }
        // Dead-lettering takes the message off the worker's bookkeeping: no ack after it.
        let letter = "task \(m.name)[\(m.id)] lost its pool process \(losses) times, last with \(error.exceptionInfo.summary); not redelivered again"
        return [.deadLetter(reason: letter)] + failure
    }

    /// The traceback text a Swift task's failure is stored with.
    private static func traceback(_ error: TaskError, _ facts: Facts) -> String {
        let m = facts.message
        return "Traceback (most recent call last):\n  Swift task \(m.name)[\(m.id)] on \(facts.node)\n\(error.type): \(error.message)\n"
    }
}
