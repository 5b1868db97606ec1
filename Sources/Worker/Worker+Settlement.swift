import Celeriac
import Foundation
import Logging

/// Carrying out ``TaskSettlement``'s decisions: the only place where what happens after a task
/// body ends touches Redis, the logs and the events.
extension Worker {
    /// Where a retry's message says it comes from, as Celery's producer names itself.
    static let retryOrigin = "gen\(ProcessInfo.processInfo.processIdentifier)@\(ProcessInfo.processInfo.hostName)"

    /// Does `actions` for delivery `d`, in order, then calls the middleware's outcome and
    /// postrun hooks for the state it ended in.
    func carryOut(_ actions: [TaskSettlement.Action], for d: Delivery, context: TaskContext, _ live: Live) async {
        var ended: TaskSettlement.Report?
        for action in actions {
            switch action {
            case .publishRetry(let next):
                await publish(next, live)
            case .requeue(let message):
                await requeue(message, for: d, live)
            case .deadLetter(let reason):
                await deadLetter(d.raw, from: d.listKey, reason: reason, recordedTag: d.tag, live)
            case .ack:
                await ackAfterResults(d, live)
            case .publish(let plan):
                await publish(plan, live)
            case .chordPart(let part):
                await returnChordPart(part, live)
            case .callErrback(let call):
                await callErrback(call)
            case .keepOriginal, .report, .store:
                if let report = doAtOnce(action, for: d, live) { ended = report }
            }
        }
        if let ended, !middleware.isEmpty { callHooks(for: ended, context) }
    }

    /// ``carryOut(_:for:context:_:)`` for actions that are all ``TaskSettlement/Action/isImmediate``,
    /// as most tasks' are (a report and a store), without an async frame: that one is a heap
    /// block malloc'd and freed for every task, which the drain's profile showed (glibc's lock).
    func carryOutAtOnce(_ actions: [TaskSettlement.Action], for d: Delivery, context: TaskContext, _ live: Live) {
        var ended: TaskSettlement.Report?
        for action in actions {
            if let report = doAtOnce(action, for: d, live) { ended = report }
        }
        if let ended, !middleware.isEmpty { callHooks(for: ended, context) }
    }

    /// Does an immediate action; returns the report when it was one.
    private func doAtOnce(_ action: TaskSettlement.Action, for d: Delivery, _ live: Live) -> TaskSettlement.Report? {
        switch action {
        case .keepOriginal:
            keepForRetry(d, live)
        case .report(let report):
            self.report(report, d, live)
            return report
        case .store(let meta):
            store(d.message, meta, live)
        case .publishRetry, .requeue, .deadLetter, .ack, .publish, .chordPart, .callErrback:
            preconditionFailure("\(action) waits: carryOut does it")
        }
        return nil
    }

    /// Publishes a message this worker sends (a retry, a workflow's next message) through the
    /// middleware's publish hooks.
    ///
    /// This and ``requeue(_:for:_:)`` are functions of their own, not arms of
    /// ``carryOut(_:for:context:_:)``: that function's async frame is allocated for every task
    /// (as a heap slab, malloc'd and freed), and these rare arms' messages and temporaries made
    /// it 10 KB instead of 5.8 KB. Their own frames are allocated only when they run.
    func publish(_ message: TaskMessage, _ live: Live) async {
        var next = message
        for hook in middleware { hook.beforePublish(&next) }
        let message = next
        await live.driver.publish(message)
        for hook in middleware { hook.afterPublish(message) }
    }

    /// Puts `message`, the version of delivery `d` the decision chose, back on its queue.
    private func requeue(_ message: TaskMessage, for d: Delivery, _ live: Live) async {
        await restore(Delivery(listKey: d.listKey, raw: d.raw, message: message, receivedAt: d.receivedAt), live)
    }

    /// `task_success`/`task_failure`/`task_retry`/`task_revoked`, then `task_postrun`.
    private func callHooks(for report: TaskSettlement.Report, _ context: TaskContext) {
        let state: TaskState
        switch report {
        case .succeeded(let value, _):
            for hook in middleware { hook.taskSuccess(context, result: value) }
            state = .success
        case .failed(let error, let traceback, _):
            for hook in middleware { hook.taskFailure(context, error: error, traceback: traceback) }
            state = .failure
        case .retried(let request, _):
            for hook in middleware { hook.taskRetry(context, reason: request.reason, eta: request.eta) }
            state = .retry
        case .revoked(let signal):
            for hook in middleware { hook.taskRevoked(context, terminated: true, signal: signal, expired: false) }
            state = .revoked
        case .requeuedAfterLostProcess, .replaced:
            // Back on its queue, or replaced: the body ends for real in the task that runs next.
            return
        }
        for hook in middleware { hook.taskPostrun(context, state: state) }
    }

    /// The log lines and the task event of how a task ended.
    private func report(_ report: TaskSettlement.Report, _ d: Delivery, _ live: Live) {
        let m = d.message
        switch report {
        case .succeeded(let value, let runtime):
            let repr = PythonRepr.saferepr(value)
            logger.info("Task \(d.label) succeeded in \(String(format: "%.6f", runtime))s: \(repr.count > 200 ? String(repr.prefix(200)) + "…" : repr)")
            live.events.task { .taskSucceeded($0, clock: $1, timestamp: $2, uuid: m.id, result: repr, runtime: runtime) }
        case .failed(let error, let traceback, let cause):
            switch cause {
            case .raised:
                logger.error("Task \(d.label) raised unexpected: \(error.exceptionInfo.summary)")
            case .hardLimit(let limit):
                logger.error("Task \(d.label) hard time limit (\(limit)s) exceeded")
                logger.error("Task \(d.label) raised unexpected: \(error.exceptionInfo.summary)")
            case .softLimit(let limit):
                logger.warning("Task \(d.label) soft time limit (\(limit)s) exceeded")
                logger.error("Task \(d.label) raised unexpected: \(error.exceptionInfo.summary)")
            case .poolProcessLost:
                logger.error("Task handler raised error: \(error.exceptionInfo.summary) (task \(d.label))")
            }
            live.events.task { .taskFailed($0, clock: $1, timestamp: $2, uuid: m.id, exception: error.exceptionInfo.summary, traceback: traceback) }
        case .retried(let request, let traceback):
            logger.info("Task \(d.label) retry: Retry at \(CeleryDate.format(request.eta)): \(request.reason.exceptionInfo.summary)")
            live.events.task { .taskRetried($0, clock: $1, timestamp: $2, uuid: m.id, exception: request.reason.exceptionInfo.summary, traceback: traceback) }
        case .revoked(let signal):
            logger.info("Task \(d.label) terminated (signal \(signal)): marked REVOKED")
            live.events.task { .taskRevoked($0, clock: $1, timestamp: $2, uuid: m.id, terminated: true, signum: signal, expired: false) }
        case .replaced(let name):
            logger.info("Task \(d.label) replaced by \(name)[\(m.id)]")
        case .requeuedAfterLostProcess(let error, let losses, let allowed):
            logger.error("Task handler raised error: \(error.exceptionInfo.summary) (task \(d.label))")
            logger.warning("Task \(d.label) rejected after its pool process was lost (\(losses) of \(allowed) times): requeued")
        }
    }
}
