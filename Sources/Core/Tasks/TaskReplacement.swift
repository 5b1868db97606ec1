/// Thrown by a task body to hand its work to a workflow (Celery's `self.replace(sig)`): the
/// worker sends `signature` under this task's id, with this task's chord, group, root, links and
/// the rest of its chain, stores nothing for this run and acks it. Get one from
/// ``TaskContext/replace(with:)``.
public struct TaskReplacement: Error, Sendable {
    public let signature: Signature
}

extension TaskContext {
    /// The error to throw to replace this task with `signature`, as Celery's `self.replace(sig)`:
    ///
    /// ```swift
    /// throw context.replace(with: try Mul.s(.init(x: .int(x), y: 10)))
    /// ```
    ///
    /// A group is followed by `celery.accumulate` (so the result is its list), as in Celery. A
    /// signature that is already a chord member is refused (Celery's `ImproperlyConfigured`).
    public func replace(with signature: Signature) -> any Error { TaskReplacement(signature: signature) }

    /// ``replace(with:)`` for a typed signature.
    public func replace<Output>(with signature: TaskSignature<Output>) -> any Error { replace(with: signature.signature) }
}
