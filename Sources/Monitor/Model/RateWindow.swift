/// Counts of something per whole second over a sliding window, in constant memory.
///
/// One bucket per second in a ring of ``capacity`` seconds (900 = 15 minutes by default), so
/// rates over 1 s, 1 min and 15 min come from the same buckets. Time is always passed in
/// (epoch seconds, the monitor's local receive clock); nothing here reads a clock.
///
/// Queries cover *complete* seconds only: ``count(last:now:)`` with `now = 1000.7` and
/// `seconds = 1` counts second `[999, 1000)`, so the current, partial second never shows as a
/// dip in a rate or a sparkline.
public struct RateWindow: Sendable, Equatable {
    /// The longest window this can answer for, in seconds.
    public let capacity: Int
    /// Per-second counts; bucket of second `s` is `buckets[s mod capacity]`.
    private var buckets: [UInt32]
    /// The newest second that has a bucket; `nil` before the first ``record(at:count:)``.
    private var headSecond: Int?
    /// Everything ever recorded, including what has slid out of the window.
    public private(set) var total: Int = 0

    /// Creates an empty window.
    ///
    /// - Parameter capacity: Seconds kept, at least 1; 900 (15 minutes) by default.
    public init(capacity: Int = 900) {
        precondition(capacity >= 1, "RateWindow capacity must be at least 1 second")
        self.capacity = capacity
        self.buckets = Array(repeating: 0, count: capacity)
    }

    /// Adds `count` occurrences at time `time`.
    ///
    /// Occurrences older than the window (relative to the newest recorded second) are counted
    /// in ``total`` only.
    /// - Parameters:
    ///   - time: Epoch seconds of the occurrence (local receive time).
    ///   - count: How many occurred.
    public mutating func record(at time: Double, count: Int = 1) {
        guard count > 0, time.isFinite else { return }
        total += count
        let second = Int(time.rounded(.down))
        if let head = headSecond {
            if second > head {
                let gap = second - head
                if gap >= capacity {
                    for i in buckets.indices { buckets[i] = 0 }
                } else {
                    var s = head + 1
                    while s <= second {
                        buckets[slot(s)] = 0
                        s += 1
                    }
                }
                headSecond = second
            } else if second <= head - capacity {
                return
            }
        } else {
            headSecond = second
        }
        let i = slot(second)
        let (sum, overflow) = buckets[i].addingReportingOverflow(UInt32(clamping: count))
        buckets[i] = overflow ? .max : sum
    }

    /// Occurrences in the `seconds` complete seconds before `now`.
    ///
    /// - Parameters:
    ///   - seconds: Window length, clamped to `1...capacity`.
    ///   - now: The current time, epoch seconds.
    public func count(last seconds: Int, now: Double) -> Int {
        guard let head = headSecond, now.isFinite else { return 0 }
        let w = min(max(seconds, 1), capacity)
        let end = Int(now.rounded(.down))  // exclusive
        var sum = 0
        var s = max(end - w, head - capacity + 1)
        let last = min(end - 1, head)
        while s <= last {
            sum += Int(buckets[slot(s)])
            s += 1
        }
        return sum
    }

    /// Average occurrences per second over the `seconds` complete seconds before `now`.
    ///
    /// - Parameters:
    ///   - seconds: Window length (1, 60, 900, …), clamped to `1...capacity`.
    ///   - now: The current time, epoch seconds.
    public func rate(over seconds: Int, now: Double) -> Double {
        let w = min(max(seconds, 1), capacity)
        return Double(count(last: w, now: now)) / Double(w)
    }

    /// Per-second counts for the `seconds` complete seconds before `now`, oldest first, for a
    /// sparkline; always exactly `seconds` values (clamped to `1...capacity`).
    ///
    /// - Parameters:
    ///   - seconds: How many seconds, 60 for the overview.
    ///   - now: The current time, epoch seconds.
    public func series(last seconds: Int, now: Double) -> [Int] {
        let w = min(max(seconds, 1), capacity)
        var out = [Int](repeating: 0, count: w)
        guard let head = headSecond, now.isFinite else { return out }
        let end = Int(now.rounded(.down))
        for k in 0..<w {
            let s = end - w + k
            if s <= head, s > head - capacity { out[k] = Int(buckets[slot(s)]) }
        }
        return out
    }

    @inline(__always)
    private func slot(_ second: Int) -> Int {
        let r = second % capacity
        return r < 0 ? r + capacity : r
    }
}
