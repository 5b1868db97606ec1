import Celeriac
import Synchronization

/// One message taken off a queue: the raw bytes as they were popped, where they came from,
/// and the decoded task. The raw bytes are what goes into `unacked` and back onto the queue,
/// so a restore never depends on re-encoding.
final class Delivery: Sendable {
    /// The Redis list it was popped from (`celery`, `celery\x06\x163`, …).
    let listKey: String
    let raw: [UInt8]
    let message: TaskMessage
    /// Tells this taking of the message from a later one: a restored message comes back with the
    /// same task id and delivery tag, and may be taken again before the first taking is over.
    let receipt: Int
    /// When it was taken: a lapse of the worker's liveness after this puts its ownership in
    /// doubt (``LivenessFence/heldInDoubt(receivedAt:now:)``).
    let receivedAt: ContinuousClock.Instant

    init(listKey: String, raw: [UInt8], message: TaskMessage, receivedAt: ContinuousClock.Instant = .now) {
        self.listKey = listKey
        self.raw = raw
        self.message = message
        self.receivedAt = receivedAt
        receipt = Self.receipts.add(1, ordering: .relaxed).newValue
    }

    private static let receipts = Atomic<Int>(0)

    var tag: String { message.deliveryTag }
    var label: String { "\(message.name)[\(message.id)]" }
}
