import Celeriac
import Foundation

/// Counting the workers and pool processes a message was running on when they died.
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
