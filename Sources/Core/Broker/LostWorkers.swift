/// Counting the workers (and pool processes) a message was running on when they died, so a
/// message that kills every worker that runs it is dead-lettered, not handed on forever.
package enum LostWorkers {
    /// The message header holding the count; a Python worker ignores it, another Celeriac
    /// worker goes on counting.
    package static let header = "celeriac_worker_lost"

    /// The message's count with one more: the header is a wire value, so any type or size
    /// counts as a number between 0 and `Int.max`, never a trap.
    package static func counting(_ m: TaskMessage) -> Int {
        min(soFar(m), Int.max - 1) + 1
    }

    /// The message's count so far: 0 for an absent, negative or non-integer header.
    package static func soFar(_ m: TaskMessage) -> Int {
        max(0, m.extraHeaders[header]?.intValue ?? 0)
    }
}
