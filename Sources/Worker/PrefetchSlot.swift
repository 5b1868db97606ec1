import Synchronization

/// One message's place in the prefetch window, given back exactly once: by whichever comes
/// first of the ack, an ETA wait, or the end of the message's processing.
final class PrefetchSlot: Sendable {
    private let window: AsyncSemaphore
    private let released = Atomic<Bool>(false)

    init(_ window: AsyncSemaphore) { self.window = window }

    func release() {
        guard !released.exchange(true, ordering: .relaxed) else { return }
        window.release()
    }
}
