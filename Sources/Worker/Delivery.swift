import Celeriac

/// One message taken off a queue: the raw bytes as they were popped, where they came from,
/// and the decoded task. The raw bytes are what goes into `unacked` and back onto the queue,
/// so a restore never depends on re-encoding.
struct Delivery: Sendable {
    /// The Redis list it was popped from (`celery`, `celery\x06\x163`, …).
    let listKey: String
    let raw: [UInt8]
    let message: TaskMessage

    var tag: String { message.deliveryTag }
    var label: String { "\(message.name)[\(message.id)]" }
}
