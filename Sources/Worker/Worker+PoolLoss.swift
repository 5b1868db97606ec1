import Celeriac
import Foundation

/// Counting the workers and pool processes a message was running on when they died.
extension Worker {
    /// A message that was running on more dead workers than ``WorkerSettings/workerLostRedeliveries``
    /// allows, dead-lettered by this worker's orphan sweep: FAILURE `WorkerLostError` and
    /// `task-failed`, so a caller waiting on its result hears of it.
    func workersLost(running m: TaskMessage, _ live: Live) async {
        let losses = LostWorkers.counting(m)
        let reason = "Worker exited prematurely while running the task, \(losses) times; dead-lettered to \(settings.deadLetterKey)"
        let error = TaskError(type: "WorkerLostError", arguments: [.string(reason)], module: "billiard.exceptions")
        logger.error("dead-lettered task \(m.name)[\(m.id)]: it was running when its worker died \(losses) times")
        let traceback = "Traceback (most recent call last):\n  Swift task \(m.name)[\(m.id)]\nbilliard.exceptions.WorkerLostError: \(reason)\n"
        await recordFailure(m, error, traceback: traceback, live)
    }
}
