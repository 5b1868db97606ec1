/// A Lamport logical clock with kombu's semantics (`kombu.clocks.LamportClock`).
///
/// Celery orders events and control messages by these clocks rather than wall time. It is a
/// plain value: the owner (a worker's event publisher, a monitor's model) keeps it in its own
/// isolation domain, so no lock is needed here.
public struct LamportClock: Sendable, Hashable {
    /// The current value; kombu starts at 0, so the first `forward()` returns 1.
    public private(set) var value: Int

    /// Creates a clock at `value` (0 by default, as kombu).
    public init(value: Int = 0) { self.value = value }

    /// Ticks for a local event (sending an event or a control message) and returns the new value.
    @discardableResult
    public mutating func forward() -> Int {
        value = Self.successor(value)
        return value
    }

    /// Merges a clock value received from another process: `max(own, other) + 1`.
    ///
    /// The other value comes off the wire, so `Int.max` is possible: the clock then stays at
    /// `Int.max` (Python's integers would keep growing) instead of overflowing.
    /// - Returns: The new value.
    @discardableResult
    public mutating func adjust(_ other: Int) -> Int {
        value = Self.successor(max(value, other))
        return value
    }

    /// `v + 1`, saturating at `Int.max`.
    private static func successor(_ v: Int) -> Int { v == .max ? .max : v + 1 }

    /// Applies a received event as Celery's `EventReceiver.event_from_message` does and returns
    /// the clock a monitor should record for it.
    ///
    /// Clients never synchronise their clocks, so a `task-sent` event's own clock is ignored
    /// and replaced by `(value or 1) - 1` (`CLIENT_CLOCK_SKEW = -1`), which orders it just
    /// before what this receiver has seen; the clock is then adjusted with that value. Any other
    /// event adjusts the clock with its `clock` field, or, without one, is given `forward()`.
    public mutating func observe(_ event: CeleryEvent) -> Int {
        if event.kind == .taskSent {
            let c = (value == 0 ? 1 : value) - 1
            adjust(c)
            return c
        }
        if let c = event.clock {
            adjust(c)
            return c
        }
        return forward()
    }
}
