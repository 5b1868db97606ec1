import Celeriac
import Foundation

/// What happens to a message whose pool process died under it (`--pool process`).
extension Worker {
    /// The message header counting how often a pool process died running this message; a
    /// Python worker ignores it, another Celeriac worker goes on counting.
    static let workerLostHeader = "celeriac_worker_lost"

    /// The message's count of lost workers (``workerLostHeader``) with one more: the header is a
    /// wire value, so any type or size counts as a number between 0 and `Int.max`, never a trap.
    static func lossesCounting(_ m: TaskMessage) -> Int {
        min(lossesSoFar(m), Int.max - 1) + 1
    }

    /// The message's count of lost workers so far: 0 for an absent, negative or non-integer header.
    static func lossesSoFar(_ m: TaskMessage) -> Int {
        max(0, m.extraHeaders[workerLostHeader]?.intValue ?? 0)
    }

    /// A pool child died mid-task (a crash, an abort, `kill -9`, the OOM killer). As Celery:
    /// FAILURE `WorkerLostError` and `task-failed`; but with `acks_late` and
    /// `reject_on_worker_lost` the message goes back to its queue instead. A message that keeps
    /// killing its child goes back at most ``WorkerSettings/workerLostRedeliveries`` times,
    /// then is dead-lettered (and recorded as failed) rather than loop forever.
    /// - Returns: true when the message was put back here (so it must not be acked).
    func poolProcessLost(_ d: Delivery, reason: String, _ live: Live) async -> Bool {
        let m = d.message
        let error = TaskError(type: "WorkerLostError", arguments: [.string(reason)], module: "billiard.exceptions")
        let reject = acksLate(m) && ((tasks[m.name]?.options.rejectOnWorkerLost ?? false) || settings.rejectOnWorkerLost)
        logger.error("Task handler raised error: \(error.exceptionInfo.summary) (task \(d.label))")
        if reject {
            let losses = Self.lossesCounting(m)
            if losses <= settings.workerLostRedeliveries {
                var again = m
                again.extraHeaders[Self.workerLostHeader] = .int(losses)
                logger.warning("Task \(d.label) rejected after its pool process was lost (\(losses) of \(settings.workerLostRedeliveries) times): requeued")
                await restore(Delivery(listKey: d.listKey, raw: d.raw, message: again), live)
                return true
            }
            await deadLetter(d.raw, from: d.listKey,
                             reason: "task \(d.label) lost its pool process \(losses) times, last with \(error.exceptionInfo.summary); not redelivered again",
                             recordedTag: d.tag, live)
        }
        let traceback = "Traceback (most recent call last):\n  Swift task \(m.name)[\(m.id)] on \(settings.nodeName)\nbilliard.exceptions.WorkerLostError: \(reason)\n"
        keepForRetry(d, live)
        await recordFailure(m, error, traceback: traceback, live)
        return false
    }

    /// A message that was running on more dead workers than ``WorkerSettings/workerLostRedeliveries``
    /// allows, dead-lettered by this worker's orphan sweep: FAILURE `WorkerLostError` and
    /// `task-failed`, so a caller waiting on its result hears of it.
    func workersLost(running m: TaskMessage, _ live: Live) async {
        let losses = Self.lossesCounting(m)
        let reason = "Worker exited prematurely while running the task, \(losses) times; dead-lettered to \(settings.deadLetterKey)"
        let error = TaskError(type: "WorkerLostError", arguments: [.string(reason)], module: "billiard.exceptions")
        logger.error("dead-lettered task \(m.name)[\(m.id)]: it was running when its worker died \(losses) times")
        let traceback = "Traceback (most recent call last):\n  Swift task \(m.name)[\(m.id)]\nbilliard.exceptions.WorkerLostError: \(reason)\n"
        await recordFailure(m, error, traceback: traceback, live)
    }
}
