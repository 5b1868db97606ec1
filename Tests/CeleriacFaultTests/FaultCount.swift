/// What one fault run measured.
///
/// - `sent`: task messages published that carry an id the test waits for.
/// - `finished`: those ids with their expected final state (SUCCESS, or FAILURE for tasks meant
///   to fail) in the result backend.
/// - `lost`: `sent - finished` once the run settled (every id finished, or no progress for a
///   long while): a message no worker will ever run. Must be 0.
/// - `runTwice`: ids whose execution completed more than once, counted from the `Task
///   name[id] succeeded in` / `raised unexpected` lines of every worker's log. Only at-least-once
///   delivery (acks_late after kill -9, a restore racing an ack during an outage) may cause it.
struct FaultCount: Sendable, Equatable {
    var fault: Fault
    var sent: Int
    var finished: Int
    var runTwice: Int
    /// Details particular to the fault (messages restored, dead-lettered, …).
    var notes: String = ""

    var lost: Int { sent - finished }

    /// `fault kill-9-worker: sent 3000, finished 3000, lost 0, run twice 4 (…notes)`.
    var line: String {
        "fault \(fault.rawValue): sent \(sent), finished \(finished), lost \(lost), run twice \(runTwice)"
            + (notes.isEmpty ? "" : " (\(notes))")
    }
}
