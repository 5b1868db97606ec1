import Celeriac
import CeleriacTestSupport
@testable import CeleriacWorker
import Foundation
import CeleriacTestTags
import Testing

/// `worker_eta_task_limit`: ETA messages give their prefetch slot back while the hold stays
/// within the limit, keep it past that (so the worker takes nothing more), and a place freed
/// outside the window goes to a waiter parked in it.
@Suite(.tags(.integration)) struct EtaTaskLimitTests {
    /// A prefetch window of `window` slots with every slot taken by a message.
    private func fullWindow(_ window: Int) -> (AsyncSemaphore, [PrefetchSlot]) {
        let semaphore = AsyncSemaphore(slots: window)
        #expect(semaphore.tryAcquire(upTo: window) == window)
        return (semaphore, (0..<window).map { _ in PrefetchSlot(semaphore) })
    }

    @Test func withoutALimitEveryETAMessageGivesItsSlotBack() {
        let limit = EtaTaskLimit(limit: nil)
        let semaphore = AsyncSemaphore(slots: 2)
        for _ in 0..<1_000 {
            #expect(semaphore.tryAcquire(upTo: 1) == 1, "the worker can always take the next message")
            let hold = limit.enter(PrefetchSlot(semaphore), window: 2)
            _ = hold
        }
        #expect(limit.parkedInWindow == 0)
    }

    @Test func pastTheLimitETAMessagesKeepTheirSlotsSoTheWorkerTakesNoMore() {
        // Window 2, limit 5: three may wait outside the window, then two fill it.
        let limit = EtaTaskLimit(limit: 5)
        let semaphore = AsyncSemaphore(slots: 2)
        var holds: [EtaTaskLimit.Hold] = []
        var taken = 0
        while semaphore.tryAcquire(upTo: 1) == 1 {
            taken += 1
            holds.append(limit.enter(PrefetchSlot(semaphore), window: 2))
            if taken > 100 { break }
        }
        #expect(taken == 5, "at most the limit held")
        #expect(holds.map(\.reachedLimit) == [false, false, false, true, false], "said once, by the first to keep its slot")
        #expect(limit.heldOutsideWindow == 3)
        #expect(limit.parkedInWindow == 2)

        // One outside the window is done: its place goes to a parked one, whose slot comes back.
        limit.leave(holds[0], window: 2)
        #expect(limit.heldOutsideWindow == 3)
        #expect(limit.parkedInWindow == 1)
        #expect(semaphore.tryAcquire(upTo: 1) == 1, "room for one more message")

        // A parked one that is done leaves the line (its slot went back with its ack).
        limit.leave(holds[4], window: 2)
        #expect(limit.parkedInWindow == 0)
        #expect(limit.heldOutsideWindow == 3)
        // The next one past the limit starts a new episode.
        #expect(limit.enter(PrefetchSlot(semaphore), window: 2).reachedLimit)
    }

    @Test func aLimitBelowTheWindowKeepsEveryETAMessageInTheWindow() {
        let limit = EtaTaskLimit(limit: 3)
        let (semaphore, slots) = fullWindow(8)
        let holds = slots.map { limit.enter($0, window: 8) }
        #expect(limit.heldOutsideWindow == 0)
        #expect(limit.parkedInWindow == 8)
        #expect(semaphore.tryAcquire(upTo: 1) == 0)
        for hold in holds { limit.leave(hold, window: 8) }
        #expect(limit.parkedInWindow == 0)
    }
}

/// `worker_eta_task_limit` is read like the other worker settings: flag, then environment, then
/// config file; Celery's default is no limit, and 0 or `none` say so too.
@Suite(.tags(.integration)) struct EtaTaskLimitSettingTests {
    @Test func readFromFlagEnvironmentAndConfigFileWithNoLimitByDefault() throws {
        #expect(try WorkerCommand.parse([]).settings(environment: [:]).etaTaskLimit == nil)
        #expect(try WorkerCommand.parse(["--eta-task-limit", "500"]).settings(environment: [:]).etaTaskLimit == 500)
        #expect(try WorkerCommand.parse([]).settings(environment: ["CELERY_WORKER_ETA_TASK_LIMIT": "300"]).etaTaskLimit == 300)
        #expect(try WorkerCommand.parse(["--eta-task-limit", "0"]).settings(environment: ["CELERY_WORKER_ETA_TASK_LIMIT": "300"]).etaTaskLimit == nil,
                "the flag wins, and 0 is no limit")
        #expect(try WorkerCommand.parse([]).settings(environment: ["CELERY_WORKER_ETA_TASK_LIMIT": "None"]).etaTaskLimit == nil)
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try "worker_eta_task_limit: 1000\n".write(toFile: dir.file("celeriac.yaml"), atomically: true, encoding: .utf8)
        #expect(try WorkerCommand.parse(["--config", dir.file("celeriac.yaml")]).settings(environment: [:]).etaTaskLimit == 1000)
        #expect(throws: (any Error).self) { try WorkerCommand.parse(["--eta-task-limit", "-1"]) }
        #expect(throws: (any Error).self) { try WorkerCommand.parse([]).settings(environment: ["CELERY_WORKER_ETA_TASK_LIMIT": "many"]) }
        #expect(WorkerCommand.helpMessage(columns: 200).contains("--eta-task-limit"))
    }
}
