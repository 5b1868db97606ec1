public import Celeriac
import DequeModule
import Synchronization

/// The bounded, thread-safe queue between the feed's tasks and the monitor loop.
///
/// The feed's tasks append; the loop takes everything with ``drain()`` on each pass. Events
/// that arrive within ``groupingWindow`` of the first event of a group are handed over as one
/// ``MonitorInput/events(_:receivedAt:)`` (a `task.multi` batch arrives as a burst of events),
/// so the loop applies them with one receive time and one `[CeleryEvent]` allocation per burst
/// rather than per event.
///
/// When the loop falls behind (a suspended terminal, a paused process) the buffer keeps the
/// newest ``capacity`` events and drops the oldest, like ``Celeriac/EventReceiver``: a monitor
/// needs the present more than the history it can no longer catch up with. The first drop of
/// each episode adds one ``MonitorInput/notice(_:)``.
public final class MonitorInputBuffer: Sendable {
    /// Events kept at most, 200,000 by default.
    public let capacity: Int
    /// Events received this close to the start of the current group join it, in seconds.
    public let groupingWindow: Double

    private struct State: Sendable {
        var inputs: Deque<MonitorInput> = []
        /// Events in `inputs` plus `pending`.
        var eventCount = 0
        /// The group being collected, not yet in `inputs`.
        var pending: [CeleryEvent] = []
        var pendingAt: Double = 0
        /// A notice about dropping was queued since the last drain.
        var noticedDrop = false
    }

    private let state = Mutex(State())

    /// Creates an empty buffer.
    ///
    /// - Parameters:
    ///   - capacity: Events kept at most (at least 1).
    ///   - groupingWindow: Seconds within which events form one group (5 ms by default).
    public init(capacity: Int = 200_000, groupingWindow: Double = 0.005) {
        self.capacity = max(1, capacity)
        self.groupingWindow = groupingWindow
    }

    /// Adds one received event.
    ///
    /// - Parameters:
    ///   - event: The decoded event.
    ///   - receivedAt: Local wall-clock time it was received, epoch seconds.
    public func append(event: CeleryEvent, receivedAt: Double) {
        state.withLock { s in
            if !s.pending.isEmpty, receivedAt - s.pendingAt > groupingWindow || receivedAt < s.pendingAt {
                Self.flush(&s)
            }
            if s.pending.isEmpty { s.pendingAt = receivedAt }
            s.pending.append(event)
            s.eventCount += 1
            trim(&s)
        }
    }

    /// Adds any other input (queue depths, stats, notices, backfilled events), after the
    /// events received before it.
    ///
    /// - Parameter input: The input.
    public func append(_ input: MonitorInput) {
        state.withLock { s in
            Self.flush(&s)
            s.inputs.append(input)
            if case .events(let events, _) = input {
                s.eventCount += events.count
                trim(&s)
            }
        }
    }

    /// Everything buffered, oldest first, and empties the buffer.
    public func drain() -> [MonitorInput] {
        state.withLock { s in
            Self.flush(&s)
            defer {
                s.inputs = []
                s.eventCount = 0
                s.noticedDrop = false
            }
            return Array(s.inputs)
        }
    }

    /// Events currently buffered.
    public var eventCount: Int { state.withLock { $0.eventCount } }

    private static func flush(_ s: inout State) {
        guard !s.pending.isEmpty else { return }
        s.inputs.append(.events(s.pending, receivedAt: s.pendingAt))
        s.pending = []
    }

    /// Drops the oldest event groups (never other inputs) until at most `capacity` events remain.
    private func trim(_ s: inout State) {
        guard s.eventCount > capacity else { return }
        var kept: Deque<MonitorInput> = []
        while s.eventCount > capacity, let first = s.inputs.first {
            s.inputs.removeFirst()
            if case .events(let events, let at) = first {
                let excess = s.eventCount - capacity
                if events.count > excess {
                    // Keep the newest part of a group that is bigger than the excess.
                    s.inputs.prepend(.events(Array(events.dropFirst(excess)), receivedAt: at))
                    s.eventCount -= excess
                } else {
                    s.eventCount -= events.count
                }
            } else {
                kept.append(first)
            }
        }
        if s.eventCount > capacity {
            // Only the pending group is left: drop its oldest events.
            let excess = s.eventCount - capacity
            s.pending.removeFirst(min(excess, s.pending.count))
            s.eventCount -= excess
        }
        s.inputs.insert(contentsOf: kept, at: 0)
        if !s.noticedDrop {
            s.noticedDrop = true
            s.inputs.append(.notice("qmon fell behind: dropping the oldest events beyond \(capacity)"))
        }
    }
}
