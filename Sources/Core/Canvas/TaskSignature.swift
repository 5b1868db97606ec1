/// A signature whose result decodes as `Output`: the typed face of ``Signature`` for building
/// workflows in Swift.
///
/// ```swift
/// let total = try await client.apply(
///     chord(try (0..<10).map { try Add.s(.init(x: .int($0), y: .int($0))) }, TSum.partial())
/// ).get(timeout: .seconds(10))       // decoded as TSum.Output
/// let forty = try await client.apply(try Add.s(.init(x: 2, y: 2)).then(Mul.partial(10))).get()
/// ```
///
/// What Swift checks is the type each step's result decodes as (a chain's is its last step's, a
/// chord's its body's, a group's the list of its members'). What a step receives from the one
/// before it is prepended to its arguments at run time, as in Celery: make such a step with
/// `partial(...)` (the arguments after the first, as JSON), or `si(...)` to take none.
public struct TaskSignature<Output: Decodable & Sendable>: Sendable, Hashable {
    public var signature: Signature

    public init(_ signature: Signature) { self.signature = signature }

    /// A chain: this, then `next` with this one's result prepended (Celery's `self | next`).
    public func then<Next>(_ next: TaskSignature<Next>) -> TaskSignature<Next> {
        var steps: [Signature] = []
        for part in [signature, next.signature] {
            if case .chain(let inner)? = try? part.kind(), part.options.isEmpty { steps += inner } else { steps.append(part) }
        }
        return TaskSignature<Next>(.chain(steps))
    }

    /// `link`: `callback` runs with this one's result when it succeeds.
    public func link<C>(_ callback: TaskSignature<C>) -> Self {
        var copy = self
        copy.signature.append(callback.signature, to: "link")
        return copy
    }

    /// `link_error`: `errback` runs when this one fails (see Celery's old and new errback styles).
    public func linkError<E>(_ errback: TaskSignature<E>) -> Self {
        var copy = self
        copy.signature.append(errback.signature, to: "link_error")
        return copy
    }

    /// `set(...)`: an `apply_async` option (`queue`, `priority`, `countdown`, `task_id`…).
    public func set(_ option: String, _ value: JSONValue) -> Self {
        var copy = self
        copy.signature.set(option, value)
        return copy
    }
}

/// `group(members)`: run together; the result is their results in order.
public func group<Output>(_ members: [TaskSignature<Output>]) -> TaskSignature<[Output]> {
    TaskSignature(.group(members.map(\.signature)))
}

/// `chord(header, body)`: the header runs as a group, then `body` gets their results (in header
/// order) prepended; the result is the body's.
public func chord<Member, Output>(_ header: [TaskSignature<Member>], _ body: TaskSignature<Output>) -> TaskSignature<Output> {
    TaskSignature(.chord(header.map(\.signature), body: body.signature))
}

extension TaskHandle {
    /// `task.s(...)`: this call, to run later (a chain step prepends the previous result to it).
    public func s(_ arguments: Arguments) throws -> TaskSignature<Output> {
        let call = try call(arguments)
        return TaskSignature(Signature(task: name, args: call.args, kwargs: call.kwargs))
    }

    /// `task.si(...)`: this call, immutable (a chain step ignores the previous result).
    public func si(_ arguments: Arguments) throws -> TaskSignature<Output> {
        var sig = try s(arguments)
        sig.signature.immutable = true
        return sig
    }

    /// `task.s(*rest)`: a step that takes the previous step's result as its first argument and
    /// `rest` after it (JSON, as Swift cannot see the prepended value's type).
    public func partial(_ rest: JSONValue..., kwargs: JSONObject = [:]) -> TaskSignature<Output> {
        TaskSignature(Signature(task: name, args: rest, kwargs: kwargs))
    }
}

extension CeleryTask {
    /// `task.s(...)` (see ``TaskHandle/s(_:)``).
    public static func s(_ arguments: Arguments) throws -> TaskSignature<Output> { try handle.s(arguments) }
    /// `task.si(...)` (see ``TaskHandle/si(_:)``).
    public static func si(_ arguments: Arguments) throws -> TaskSignature<Output> { try handle.si(arguments) }
    /// `task.s(*rest)` (see ``TaskHandle/partial(_:kwargs:)``).
    public static func partial(_ rest: JSONValue..., kwargs: JSONObject = [:]) -> TaskSignature<Output> {
        TaskSignature(Signature(task: name, args: rest, kwargs: kwargs))
    }
}
