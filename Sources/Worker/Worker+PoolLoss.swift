import Celeriac
import Foundation

/// What happens to a message whose pool process died under it (`--pool process`).
extension Worker {
    /// The message header counting how often a pool process died running this message; a
    /// Python worker ignores it, another Celeriac worker goes on counting.
    static let workerLostHeader = "celeriac_worker_lost"

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
            let losses = (m.extraHeaders[Self.workerLostHeader]?.intValue ?? 0) + 1
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
        live.events.task { .taskFailed($0, clock: $1, timestamp: $2, uuid: m.id, exception: error.exceptionInfo.summary, traceback: traceback) }
        keepForRetry(d, live)
        await store(m, .failure(taskID: m.id, exception: error.exceptionInfo, traceback: traceback, now: Date(), parentID: m.parentID, groupID: m.group), live)
        return false
    }
}
