import Synchronization

/// A flag one task sets and another reads (the time-limit watchdog and the task it guards).
final class TimeoutFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}
