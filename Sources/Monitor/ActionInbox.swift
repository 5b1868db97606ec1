import Synchronization

/// Where finished actions wait for the monitor loop: actions run on their own tasks (network
/// I/O), post their outcome here, and the loop takes them on its next pass. The loop thread
/// never awaits.
final class ActionInbox: Sendable {
    private let outcomes = Mutex<[ActionOutcome]>([])

    /// Adds an outcome (any thread).
    func post(_ outcome: ActionOutcome) { outcomes.withLock { $0.append(outcome) } }

    /// Takes every outcome posted so far.
    func drain() -> [ActionOutcome] { outcomes.withLock { o in defer { o = [] }; return o } }
}
