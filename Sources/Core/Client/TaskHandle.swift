/// A typed name for a task defined anywhere, in Swift or in Python: what a client needs to send
/// it with checked arguments and read its result as a Swift type, without linking its body.
///
/// ```swift
/// // @app.task(name="tasks.add")  def add(x, y): return x + y      (a Python worker)
/// struct AddArguments: Codable, Sendable { var x: Int; var y: Int }
/// let add = TaskHandle<AddArguments, Int>(name: "tasks.add")
/// let sum: Int = try await client.delay(add, .init(x: 2, y: 3)).get(timeout: .seconds(5))
/// ```
///
/// The arguments travel as Python's `add.delay(2, 3)` sends them: positional, in the order of
/// `Arguments`' coding keys (``TaskArguments/init(encoding:parameters:)``). A ``CeleryTask``'s
/// handle is ``CeleryTask/handle``; ``CeleriacClient/delay(_:_:)-(TaskHandle<Arguments,Output>,_)``
/// and ``CeleriacClient/send(_:_:options:)-(TaskHandle<Arguments,Output>,_,_)`` take either.
public struct TaskHandle<Arguments: Encodable & Sendable, Output: Decodable & Sendable>: Sendable, Hashable {
    /// The task's Celery name.
    public var name: String
    /// Its parameter list: the order positional arguments are sent in.
    public var parameters: TaskParameters

    /// A handle with a parameter list given explicitly.
    ///
    /// - Parameters:
    ///   - name: The task's Celery name.
    ///   - parameters: Its parameter list, in the task's declaration order.
    public init(name: String, parameters: TaskParameters) {
        self.name = name
        self.parameters = parameters
    }

    /// A handle whose parameter list is read from `Arguments` (``TaskParameters/init(of:)``).
    ///
    /// When the probe cannot read it, the list is empty and every argument is sent by keyword
    /// (`add.delay(x=2, y=3)`), which a Python task binds whatever its parameters' order.
    ///
    /// - Parameter name: The task's Celery name.
    public init(name: String) where Arguments: Decodable {
        self.init(name: name, parameters: (try? TaskParameters(of: Arguments.self)) ?? TaskParameters([]))
    }

    /// The positional and keyword arguments a call with `arguments` sends.
    ///
    /// - Parameter arguments: The call's arguments.
    /// - Returns: The wire arguments.
    /// - Throws: `EncodingError` when `arguments` does not encode as an object.
    public func call(_ arguments: Arguments) throws -> TaskArguments {
        try TaskArguments(encoding: arguments, parameters: parameters)
    }
}
