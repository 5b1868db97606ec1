import Foundation
import HeapModule

/// The messages waiting for their ETA, earliest first: which of them are due at a given time,
/// and when the next one is. Pure (the time is passed in), so the worker's one ETA timer
/// (``EtaTimer``) decides from it what to wake and when to wake up next, and tests drive it
/// without a clock.
///
/// A min-heap: adding a waiter and taking a due one cost O(log n), and nothing is done for the
/// waiters that are not due, however many there are.
struct EtaSchedule: Sendable {
    /// One waiter in the schedule; numbered in the order added, so waiters due at the same
    /// moment are woken in the order they came.
    struct Waiter: Hashable, Sendable {
        let number: UInt64
    }

    private struct Entry: Comparable, Sendable {
        /// Seconds since the reference date; never NaN (see ``add(due:)``).
        let due: Double
        let waiter: Waiter

        static func < (a: Entry, b: Entry) -> Bool {
            a.due != b.due ? a.due < b.due : a.waiter.number < b.waiter.number
        }
    }

    private var heap = Heap<Entry>()
    private var added: UInt64 = 0

    /// Waiters in the schedule.
    var count: Int { heap.count }

    /// When the earliest waiter is due; `nil` when none waits. Far ETAs (year 9999) are
    /// returned as they are: whoever sleeps until it clamps the nap (``EtaTimer``).
    var earliest: Date? { heap.min.map { Date(timeIntervalSinceReferenceDate: $0.due) } }

    /// Adds a waiter due at `due`. A due time that is not a number (NaN: it compares with
    /// nothing, which would break the heap's order) is due at once.
    /// - Returns: the waiter, and whether it is now the earliest (a timer armed for a later
    ///   time must be re-armed).
    mutating func add(due: Date) -> (waiter: Waiter, isEarliest: Bool) {
        added += 1
        let seconds = due.timeIntervalSinceReferenceDate
        let entry = Entry(due: seconds.isNaN ? -.infinity : seconds, waiter: Waiter(number: added))
        let isEarliest = heap.min.map { entry < $0 } ?? true
        heap.insert(entry)
        return (entry.waiter, isEarliest)
    }

    /// Takes every waiter due at or before `now`, earliest first.
    mutating func takeDue(at now: Date) -> [Waiter] {
        let limit = now.timeIntervalSinceReferenceDate
        var due: [Waiter] = []
        while let first = heap.min, first.due <= limit {
            due.append(heap.removeMin().waiter)
        }
        return due
    }

    /// Takes every waiter, due or not (the worker is stopping).
    mutating func takeAll() -> [Waiter] {
        var all: [Waiter] = []
        all.reserveCapacity(heap.count)
        while let entry = heap.popMin() { all.append(entry.waiter) }
        return all
    }
}
