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
/// Bounded in events (``capacity``) and in bytes (``byteCapacity``, by
/// ``approximateBytes(of:)``): when the loop falls behind (a suspended terminal, a paused
/// process, a flood of events bigger or faster than the model takes them) the buffer keeps the
/// newest events within both bounds and drops the oldest, like ``Celeriac/EventReceiver``: a
/// monitor needs the present more than the history it can no longer catch up with. The first
/// drop of each episode adds one ``MonitorInput/notice(_:)``, and every ``drain()`` after a
/// drop ends with ``MonitorInput/dropped(events:)``, the number dropped since the previous one.
public final class MonitorInputBuffer: Sendable {
    /// Events kept at most, 200,000 by default.
    public let capacity: Int
    /// Bytes of events kept at most by ``approximateBytes(of:)``, 64 MiB by default.
    public let byteCapacity: Int
    /// Events received this close to the start of the current group join it, in seconds.
    public let groupingWindow: Double

    /// 64 MiB: about 40,000 ordinary task events, several seconds of a busy cluster.
    public static let defaultByteCapacity = 64 << 20

    private struct State: Sendable {
        var inputs: Deque<MonitorInput> = []
        /// Bytes of each element of `inputs` (0 for inputs other than events).
        var inputBytes: Deque<Int> = []
        /// Events in `inputs` plus `pending`.
        var eventCount = 0
        /// Bytes of the events in `inputs` plus `pending`.
        var byteCount = 0
        /// The group being collected, not yet in `inputs`.
        var pending: [CeleryEvent] = []
        var pendingAt: Double = 0
        var pendingBytes = 0
        /// A notice about dropping was queued since the last drain.
        var noticedDrop = false
        /// Events dropped since the last drain.
        var dropped = 0
    }

    private let state = Mutex(State())

    /// Creates an empty buffer.
    ///
    /// - Parameters:
    ///   - capacity: Events kept at most (at least 1).
    ///   - byteCapacity: Bytes of events kept at most (``approximateBytes(of:)``); the newest
    ///     event is kept even when it alone is bigger.
    ///   - groupingWindow: Seconds within which events form one group (5 ms by default).
    public init(capacity: Int = 200_000, byteCapacity: Int = defaultByteCapacity, groupingWindow: Double = 0.005) {
        self.capacity = max(1, capacity)
        self.byteCapacity = max(1, byteCapacity)
        self.groupingWindow = groupingWindow
    }

    /// What an event costs while it waits here, estimated from its typed view: a fixed part for
    /// the event and its views, and each text twice (a decoded event keeps its JSON text
    /// beside the typed copies).
    ///
    /// - Parameter event: A decoded event.
    /// - Returns: Bytes, at least 512.
    public static func approximateBytes(of event: CeleryEvent) -> Int {
        @inline(__always) func size(_ s: String?) -> Int { s?.utf8.count ?? 0 }
        var n = size(event.hostname)
        if let t = event.task {
            n += t.uuid.utf8.count + size(t.name) + size(t.args) + size(t.kwargs) + size(t.rootID)
            n += size(t.parentID) + size(t.eta) + size(t.expires) + size(t.queue) + size(t.exchange)
            n += size(t.routingKey) + size(t.result) + size(t.exception) + size(t.traceback)
        }
        if let w = event.worker {
            n += (w.loadavg?.count ?? 0) * 8 + size(w.swIdent) + size(w.swVer) + size(w.swSys)
        }
        if case .other(let type) = event.kind { n += type.utf8.count }
        return 512 + 2 * n
    }

    /// Adds one received event.
    ///
    /// - Parameters:
    ///   - event: The decoded event.
    ///   - receivedAt: Local wall-clock time it was received, epoch seconds.
    public func append(event: CeleryEvent, receivedAt: Double) {
        let bytes = Self.approximateBytes(of: event)
        state.withLock { s in
            if !s.pending.isEmpty, receivedAt - s.pendingAt > groupingWindow || receivedAt < s.pendingAt {
                Self.flush(&s)
            }
            if s.pending.isEmpty { s.pendingAt = receivedAt }
            s.pending.append(event)
            s.pendingBytes += bytes
            s.eventCount += 1
            s.byteCount += bytes
            trim(&s)
        }
    }

    /// Adds any other input (queue depths, stats, notices, backfilled events), after the
    /// events received before it.
    ///
    /// - Parameter input: The input.
    public func append(_ input: MonitorInput) {
        var bytes = 0
        if case .events(let events, _) = input {
            for e in events { bytes += Self.approximateBytes(of: e) }
        }
        state.withLock { s in
            Self.flush(&s)
            s.inputs.append(input)
            s.inputBytes.append(bytes)
            if case .events(let events, _) = input {
                s.eventCount += events.count
                s.byteCount += bytes
                trim(&s)
            }
        }
    }

    /// Everything buffered, oldest first, and empties the buffer; ends with
    /// ``MonitorInput/dropped(events:)`` when events were dropped since the previous drain.
    public func drain() -> [MonitorInput] {
        state.withLock { s in
            Self.flush(&s)
            if s.dropped > 0 { s.inputs.append(.dropped(events: s.dropped)) }
            defer {
                s.inputs = []
                s.inputBytes = []
                s.eventCount = 0
                s.byteCount = 0
                s.noticedDrop = false
                s.dropped = 0
            }
            return Array(s.inputs)
        }
    }

    /// Events currently buffered.
    public var eventCount: Int { state.withLock { $0.eventCount } }

    /// Bytes of the events currently buffered (``approximateBytes(of:)``).
    public var byteCount: Int { state.withLock { $0.byteCount } }

    private static func flush(_ s: inout State) {
        guard !s.pending.isEmpty else { return }
        s.inputs.append(.events(s.pending, receivedAt: s.pendingAt))
        s.inputBytes.append(s.pendingBytes)
        s.pending = []
        s.pendingBytes = 0
    }

    private func isOver(_ s: State) -> Bool { s.eventCount > capacity || s.byteCount > byteCapacity }

    /// Drops the oldest events (never other inputs) until both bounds hold, keeping at least
    /// the newest event.
    private func trim(_ s: inout State) {
        guard isOver(s) else { return }
        let droppedBefore = s.dropped
        var kept: Deque<MonitorInput> = []
        while isOver(s), let first = s.inputs.popFirst() {
            let bytes = s.inputBytes.removeFirst()
            guard case .events(let events, let at) = first else {
                kept.append(first)
                continue
            }
            // Drop whole groups; of the last one only its oldest events beyond the bounds.
            let (n, droppedBytes) = dropOldest(of: events[...], groupBytes: bytes, &s)
            if n < events.count {
                s.inputs.prepend(.events(Array(events[n...]), receivedAt: at))
                s.inputBytes.prepend(bytes - droppedBytes)
            }
        }
        if isOver(s), s.pending.count > 1 {
            // Only the pending group is left: drop its oldest events, keeping the newest.
            let (n, droppedBytes) = dropOldest(of: s.pending.dropLast(), groupBytes: nil, &s)
            s.pending.removeFirst(n)
            s.pendingBytes -= droppedBytes
        }
        while let last = kept.popLast() {
            s.inputs.prepend(last)
            s.inputBytes.prepend(0)
        }
        if !s.noticedDrop, s.dropped > droppedBefore {
            s.noticedDrop = true
            s.inputs.append(.notice(
                "qmon fell behind: dropping the oldest events beyond \(capacity) events or \(byteCapacity >> 20) MiB"))
            s.inputBytes.append(0)
        }
    }

    /// Drops the oldest of `events` while the buffer is over a bound: how many and their bytes.
    /// `groupBytes`, the size of all of `events`, lets a group that leaves whole go unmeasured.
    private func dropOldest(
        of events: ArraySlice<CeleryEvent>, groupBytes: Int?, _ s: inout State
    ) -> (count: Int, bytes: Int) {
        if let groupBytes, s.eventCount - events.count >= capacity || s.byteCount - groupBytes >= byteCapacity {
            // Still at a bound without the whole group: one by one would drop all of it too.
            s.eventCount -= events.count
            s.byteCount -= groupBytes
            s.dropped += events.count
            return (events.count, groupBytes)
        }
        var n = 0
        var bytes = 0
        for e in events {
            guard isOver(s) else { break }
            let b = Self.approximateBytes(of: e)
            s.eventCount -= 1
            s.byteCount -= b
            s.dropped += 1
            bytes += b
            n += 1
        }
        return (n, bytes)
    }
}
