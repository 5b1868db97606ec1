/// A task as a type, as `@app.task` makes a Python function one: its Celery name, its arguments
/// and result as `Codable` types, its default options and its body.
///
/// ```swift
/// enum SendSMS: CeleryTask {
///     static let name = "mycelery.sms.tasks.send_sms"
///     static let options = TaskOptions(maxRetries: 5, acksLate: true)
///
///     struct Arguments: Codable, Sendable {
///         var phone: String       // def send_sms(phone, text, sender=None)
///         var text: String
///         var sender: String?     // optional: a Python parameter with a default
///     }
///
///     static func run(_ arguments: Arguments, context: TaskContext) async throws -> Bool {
///         context.logger.info("sms to \(arguments.phone)")
///         return true
///     }
/// }
///
/// registry.register(SendSMS.self)                                             // worker
/// let sent = try await client.delay(SendSMS.self, .init(phone: "+4410", text: "hi"))
///     .get(timeout: .seconds(10))                                              // client: a Bool
/// ```
///
/// The coding keys of ``Arguments`` are the Python parameter names, in the order `init(from:)`
/// decodes them (declaration order for synthesized `Codable`): a Python client's
/// `send_sms.delay("+4410", "hi")`, `send_sms.delay(phone="+4410", text="hi")` or any mix
/// binds as Python binds it, and a wrong call fails with the `TypeError` Python would raise
/// (see ``TaskParameters`` and ``TaskArguments/bind(to:taskName:)-(TaskParameters,_)``).
/// An optional property is a parameter with a default. A task with no parameters takes
/// ``NoArguments``; one taking `*args, **kwargs` takes ``TaskArguments`` and gets the call as it came.
///
/// ``Output`` is encoded as the stored result; a body throws ``TaskError`` to raise a Python
/// exception in the caller, or ``TaskContext/retry(countdown:eta:maxRetries:error:)``'s error to
/// run again later.
public protocol CeleryTask {
    /// The task's arguments: one property per Python parameter, named by its coding key.
    associatedtype Arguments: Codable & Sendable = NoArguments
    /// What the task returns, stored as its result (`AsyncResult.get()` in Python).
    associatedtype Output: Codable & Sendable

    /// The name Celery routes by, such as `"mycelery.sms.tasks.send_sms"`.
    ///
    /// Defaults to the Swift type's qualified name (`MyWorker.SendSMS`), in the spirit of
    /// Celery's `module.function` default; set it for any task another process calls, so
    /// renaming the type or module does not rename the task on the wire.
    static var name: String { get }

    /// Options as `@app.task(max_retries=…, acks_late=…)` sets them; Celery's defaults unless given.
    static var options: TaskOptions { get }

    /// The body: runs once per call, with the bound arguments and the call's context.
    ///
    /// - Parameters:
    ///   - arguments: The call's arguments, bound by Python's rules.
    ///   - context: The call's id, retries, worker and logger.
    /// - Returns: The result to store.
    /// - Throws: ``TaskError`` (a Python exception), a retry, or any error (reported by its type name).
    static func run(_ arguments: Arguments, context: TaskContext) async throws -> Output
}

extension CeleryTask {
    public static var name: String { String(reflecting: Self.self) }
    public static var options: TaskOptions { TaskOptions() }

    /// The Python parameter list, read from ``Arguments`` by ``TaskParameters/init(of:)``
    /// (conform ``Arguments`` to ``ExplicitTaskParameters`` to state it instead).
    /// - Throws: ``TaskParametersError`` when the probe cannot read ``Arguments``.
    public static var parameters: TaskParameters {
        get throws(TaskParametersError) { try TaskParameters(of: Arguments.self) }
    }

    /// A handle that sends this task by name with its types, as a client that does not link
    /// the task's body would build it (see ``TaskHandle``).
    public static var handle: TaskHandle<Arguments, Output> { TaskHandle(name: name) }
}
