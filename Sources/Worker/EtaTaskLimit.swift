import DequeModule
import Synchronization

/// `worker_eta_task_limit`: a cap on the messages the worker holds while ETA messages wait, as
/// Celery 5.6 caps its prefetch count (kombu's QoS `max_prefetch`).
///
/// A message that waits for its ETA gives its prefetch slot back, so the window takes other
/// work meanwhile (Celery raises the prefetch count by one per ETA message instead). With a
/// limit, it does so only while the messages held stay within it: the ones held outside the
/// window number at most `limit - window`, each until it is done (ran, or went back to its
/// queue). Past that, an ETA message keeps its slot while it waits, so once the window is full
/// of them the worker takes nothing more until one is due and done: the rest stay in Redis,
/// and the worker holds at most `limit` messages (at most its window when the limit is smaller
/// than the window; Celery shrinks its window to the limit then).
///
/// When a message held outside the window is done, its place goes to the longest-parked waiter
/// in the window, whose slot is given back: the worker takes the next message while the hold
/// stays within the limit.
final class EtaTaskLimit: Sendable {
    /// One ETA message's place, for ``leave(_:window:)``.
    struct Hold: Sendable {
        fileprivate let number: UInt64
        /// This message is the first to keep its slot since none did: the limit was just
        /// reached (worth one log line per episode, not one per message).
        let reachedLimit: Bool
    }

    private struct State {
        var outside: Set<UInt64> = []
        /// Waiting in the window (limit reached), oldest first.
        var parked: Deque<(number: UInt64, slot: PrefetchSlot)> = []
        var taken: UInt64 = 0
    }

    /// `nil`: no limit (Celery's default).
    let limit: Int?
    private let state = Mutex(State())

    init(limit: Int?) { self.limit = limit }

    /// ETA messages held outside the prefetch window (their slot given back), waiting or not done yet.
    var heldOutsideWindow: Int { state.withLock { $0.outside.count } }

    /// ETA messages held inside it (keeping their slot, as the limit was reached).
    var parkedInWindow: Int { state.withLock { $0.parked.count } }

    /// A message starts waiting for its ETA: gives `slot` back if the limit allows, or keeps it
    /// (parked) until a message held outside the window is done. `window` is the prefetch window now.
    func enter(_ slot: PrefetchSlot, window: Int) -> Hold {
        let (hold, release) = state.withLock { s -> (Hold, Bool) in
            s.taken += 1
            let number = s.taken
            guard let limit else { return (Hold(number: number, reachedLimit: false), true) }
            if s.outside.count < limit - window {
                s.outside.insert(number)
                return (Hold(number: number, reachedLimit: false), true)
            }
            s.parked.append((number, slot))
            return (Hold(number: number, reachedLimit: s.parked.count == 1), false)
        }
        if release { slot.release() }
        return hold
    }

    /// The message is done (it ran, or went back to its queue). A place outside the window
    /// that it frees goes to the oldest parked waiter, if the limit still allows.
    func leave(_ hold: Hold, window: Int) {
        guard let limit else { return }
        let promoted = state.withLock { s -> PrefetchSlot? in
            if s.outside.remove(hold.number) == nil {
                s.parked.removeAll { $0.number == hold.number }
                return nil
            }
            guard s.outside.count < limit - window, let next = s.parked.popFirst() else { return nil }
            s.outside.insert(next.number)
            return next.slot
        }
        promoted?.release()
    }
}
