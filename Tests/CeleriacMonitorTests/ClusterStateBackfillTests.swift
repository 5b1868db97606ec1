import Celeriac
import CeleriacMonitor
import Foundation
import CeleriacTestTags
import Testing

@Suite(.tags(.integration)) struct ClusterStateBackfillTests {
    @Test func storedResultsBecomeFinishedTasksWithoutCreatingWorkers() throws {
        var state = ClusterState()
        let done = Date(timeIntervalSince1970: 1000)
        var success = ResultMeta.success(taskID: "s", result: 5, now: done)
        success.extended = .init(name: "demo.add", args: [2, 3], kwargs: [:], worker: "w1@host", retries: 0, queue: "celery")
        let failure = ResultMeta.failure(
            taskID: "f", exception: ExceptionInfo(type: "ValueError", message: "boom"), traceback: "Traceback…", now: done)
        let pending = ResultMeta(status: .pending, result: .null, taskID: "p")
        let applied = [state.backfill(success, at: 1000), state.backfill(failure, at: 1001), state.backfill(pending, at: 1002)]
        #expect(applied == [true, true, false])

        let s = try #require(state.tasks["s"])
        #expect(s.state == .success && s.name == "demo.add" && s.args == "(2, 3)" && s.result == "5")
        #expect(s.queue == "celery" && s.succeededAt == 1000)
        let f = try #require(state.tasks["f"])
        #expect(f.state == .failure && f.exception == "ValueError('boom')" && f.traceback == "Traceback…")
        #expect(state.failures.totalCount == 1)
        #expect(state.taskTypes["demo.add"]?.count(in: .success) == 1)
        // A stored result says nothing about whether its worker is alive now.
        #expect(state.workers.isEmpty)
    }

    @Test func revokedResultsKeepTheReason() throws {
        let meta = ResultMeta.revoked(taskID: "r", reason: "terminated", now: Date(timeIntervalSince1970: 5))
        let event = try #require(ClusterState.backfillEvent(for: meta))
        #expect(event.kind == .taskRevoked && event.task?.terminated == true && event.task?.expired == false)
        #expect(event.hostname == nil && event.timestamp == 5)
    }
}
