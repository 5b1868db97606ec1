import Foundation

/// How a message with an ETA waits for it.
extension Worker {
    /// Waits until `eta` on the worker's one ETA timer (``EtaTimer``), outside the prefetch
    /// window as far as `worker_eta_task_limit` allows (``EtaTaskLimit``); `hold` is then the
    /// message's place under the limit, to leave when the message is done. Returns at once
    /// when `eta` has passed.
    /// - Returns: `false` when the worker is stopping (or the task was cancelled) before `eta`:
    ///   the message must go back to its queue.
    func waitForETA(_ eta: Date, _ d: Delivery, _ live: Live, slot: PrefetchSlot, hold: inout EtaTaskLimit.Hold?) async -> Bool {
        guard eta > Date() else { return true }
        let entered = etaLimit.enter(slot, window: prefetchWindow)
        hold = entered
        if entered.reachedLimit, let limit = etaLimit.limit {
            logger.warning("worker_eta_task_limit (\(limit)) reached: ETA tasks fill the prefetch window; no more messages are taken until some are due")
        }
        live.driver.sendQueued()  // its `unacked` record, if still queued, before it waits
        return await etaTimer.wait(until: eta) && !stopping.load(ordering: .relaxed)
    }

    /// The prefetch window now (`pool_grow`/`pool_shrink` change it), as `inspect stats` reports it.
    var prefetchWindow: Int { settings.prefetchMultiplier * counters.withLock { $0.concurrency } }
}
