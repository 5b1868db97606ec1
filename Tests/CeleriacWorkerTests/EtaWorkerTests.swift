import Celeriac
import CeleriacTestSupport
@testable import CeleriacWorker
import Foundation
import Synchronization
import CeleriacTestTags
import Testing

/// Issue 12 case 3: far-future ETA messages held by a worker cost it no work while they wait,
/// and `worker_eta_task_limit` caps how many it holds, the rest waiting in Redis, none lost.
@Suite(.tags(.integration), .timeLimit(.minutes(3))) struct EtaWorkerTests {
    private func unacked(_ h: WorkerHarness) async throws -> Int {
        try await h.redis.send(RedisCommand("HLEN", "unacked")).int ?? -1
    }

    /// The worker used to wake every held ETA message every 100 ms (20,000 of them kept both
    /// cores busy); now one timer sleeps until the earliest, so over the whole test it wakes at
    /// most once a minute, whatever the number held.
    @Test func thousandsOfFarETAMessagesAreHeldWithoutWakingTheWorkerAndOtherTasksStillRun() async throws {
        let h = try await WorkerHarness()
        defer { Task { await h.close() } }
        let count = 5_000
        let yearAhead = Date().addingTimeInterval(365 * 86_400)
        // Spread over a day, in no order: some arrive earlier than every one before them and re-arm the timer.
        let signatures = (0..<count).map { i in
            var options = TaskSendOptions()
            options.eta = yearAhead.addingTimeInterval(Double((i * 7_919) % 86_400))
            options.ignoreResult = true
            return CeleriacClient.Signature("demo.add", args: [.int(i), 1], options: options)
        }
        _ = try await h.client.sendMany(signatures, subscribingResults: false)
        try await waitUntil(timeout: .seconds(90)) { h.worker.etaTimer.waiting == count }
        try await waitUntil(timeout: .seconds(10)) { try await unacked(h) == count }
        #expect(try await h.llen("celery") == 0)

        // Tasks sent meanwhile run as usual: the held messages gave their prefetch slots back.
        var results: [AsyncResult] = []
        for i in 0..<100 { results.append(try await h.client.delay("demo.add", i, i)) }
        for (i, result) in results.enumerated() { #expect(try await result.get(timeout: .seconds(30)) == .int(2 * i)) }

        let wakeups = h.worker.etaTimer.wakeups
        #expect(wakeups <= 3, "\(wakeups) timer wake-ups for \(count) held ETA messages (one per minute at most)")
        #expect(h.worker.etaTimer.waiting == count)

        // A warm shutdown still puts every held ETA message back on its queue.
        try await h.stopWorker()
        #expect(try await h.llen("celery") == count)
        #expect(try await unacked(h) == 0)
    }

    /// Celery 5.6's `worker_eta_task_limit`: with a limit of 10 and a window of 2, a worker sent
    /// 30 ETA messages holds 10 (8 outside its window, 2 in it) and leaves 20 in the queue;
    /// when they are due all 30 run, none lost.
    @Test func withAnETATaskLimitTheWorkerHoldsAtMostThatManyAndTheRestWaitInRedis() async throws {
        let limit = 10
        let h = try await WorkerHarness(concurrency: 2, prefetchMultiplier: 1) { $0.etaTaskLimit = limit }
        defer { Task { await h.close() } }
        // Far enough that the worker takes what it may long before they are due, even on a busy machine.
        let eta = Date().addingTimeInterval(8)
        var options = TaskSendOptions()
        options.eta = eta
        let sent = try await h.client.sendMany((0..<(3 * limit)).map { CeleriacClient.Signature("demo.add", args: [.int($0), 1], options: options) })

        // Until the first is due nothing is acked, so `unacked` counts exactly what the worker took.
        let most = Mutex(0)
        let sampler = Task {
            while Date() < eta.addingTimeInterval(-0.5) && !Task.isCancelled {
                let held = try await unacked(h)
                most.withLock { $0 = max($0, held) }
                try await Task.sleep(for: .milliseconds(5))
            }
        }
        try await waitUntil(timeout: .seconds(6)) {
            try await unacked(h) == limit && h.worker.etaLimit.heldOutsideWindow == limit - 2 && h.worker.etaLimit.parkedInWindow == 2
        }
        #expect(try await h.llen("celery") == 2 * limit, "the rest stay in Redis")
        #expect(h.worker.etaTimer.waiting == limit)
        try await sampler.value
        #expect(most.withLock { $0 } == limit, "never more than the limit held")

        for (i, result) in sent.enumerated() { #expect(try await result.get(timeout: .seconds(60)) == .int(i + 1)) }
        #expect(try await h.llen("celery") == 0)
        try await waitUntil(timeout: .seconds(10)) { try await unacked(h) == 0 }
    }
}
