import Celeriac
import Foundation

/// The consume loop: starts each message the ``ReservationLoop`` takes, in the order it was taken.
extension Worker {
    /// Receives what the ``ReservationLoop`` takes, in the order it took it, and starts each
    /// message's processing. Reserving runs in a task of its own so that the next batch's round
    /// trip (and Redis's script) overlaps the decoding of this one; one stream and one reader
    /// keep the delivery order.
    func consume(_ live: Live, group: inout DiscardingTaskGroup) async {
        let (batches, taken) = AsyncStream.makeStream(of: [ReservedMessage].self)
        let loop = ReservationLoop(driver: live.driver, prefetch: prefetch, queues: queues, shutdown: shutdown,
                                   fencedUntil: { self.liveness.withLock { $0.fencedUntil() } },
                                   window: { self.prefetchWindow }, acksLate: settings.acksLate, pollTimeout: settings.pollTimeout)
        group.addTask { await loop.run(into: taken) }
        // Read to the end even when stopping: every reserved message holds a prefetch slot and
        // is either started or put back on its queue here.
        for await batch in batches {
            for reserved in batch {
                guard let delivery = await receive(reserved, live) else {
                    prefetch.release()
                    continue
                }
                if stopping.load(ordering: .relaxed) {
                    await restore(delivery, live)
                    prefetch.release()
                    continue
                }
                let slot = PrefetchSlot(prefetch)
                let turn = startsAtOnce(delivery.message) ? pool.ticket() : nil
                group.addTask {
                    await self.process(delivery, live, slot: slot, turn: turn)
                    slot.release()
                    // Writes run behind the work; a worker that outpaces Redis waits here.
                    await live.driver.waitIfBacklogged()
                }
            }
        }
    }
}
