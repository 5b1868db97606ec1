/// The Python parameter list of a typed task: its names in declaration order, and which of them
/// have defaults (may be left out of a call).
///
/// `def send_sms(phone, text, sender=None)` is `TaskParameters(["phone", "text", "sender"],
/// withDefaults: ["sender"])`. A typed task's list comes from its `Arguments` type
/// (``init(of:)``): the coding keys are the names, in the order the type's `init(from:)` decodes
/// them, and a key decoded with `decodeIfPresent` (an `Optional` property) has a default.
public struct TaskParameters: Sendable, Hashable {
    /// The parameter names in declaration order: positional arguments bind to them in this order.
    public var names: [String]
    /// The names a call may leave out (Python parameters with a default value).
    public var withDefaults: Set<String>

    /// A parameter list given explicitly.
    ///
    /// - Parameters:
    ///   - names: The names in declaration order.
    ///   - withDefaults: The names a call may leave out.
    public init(_ names: [String], withDefaults: Set<String> = []) {
        self.names = names
        self.withDefaults = withDefaults
    }

    /// The parameter list of an `Arguments` type, without an instance of it.
    ///
    /// A type conforming to ``ExplicitTaskParameters`` gives its own list. Otherwise the type is
    /// decoded once from a probe decoder that records the keys asked for, in order, and hands
    /// back placeholder values (`0`, `""`, `false`, empty arrays and dictionaries, `nil` for
    /// optionals, the first case of a `CaseIterable` type). Synthesized `Codable` decodes the
    /// stored properties in declaration order, so for a plain struct the list is its properties'
    /// names; with a `CodingKeys` enum of its own it is that enum's cases (their string values),
    /// in the order the cases are declared. ``TaskArguments`` itself stands for Python's `*args, **kwargs` and has no
    /// named parameters.
    ///
    /// - Parameter type: The task's `Arguments` type.
    /// - Throws: ``TaskParametersError`` when the type cannot be probed: it is not decoded from a
    ///   keyed container (not a struct of named properties), it reads its keys from the data
    ///   (a dictionary), or a property's type rejects every placeholder (an enum that is not
    ///   `CaseIterable`, a type whose `init(from:)` validates). Conform such a type to
    ///   ``ExplicitTaskParameters``, or make the enum `CaseIterable`.
    public init<Arguments: Decodable>(of type: Arguments.Type) throws(TaskParametersError) {
        if let explicit = type as? any ExplicitTaskParameters.Type {
            self = explicit.taskParameters
            return
        }
        if type == TaskArguments.self {
            self.init([])
            return
        }
        self = try ParameterNameProbe.parameters(of: type)
    }
}

/// An `Arguments` type that states its parameter list instead of having it probed.
///
/// For types the probe cannot decode (see ``TaskParameters/init(of:)``), or whose `init(from:)`
/// decodes keys in another order than the Python signature lists them:
///
/// ```swift
/// struct Arguments: Codable, Sendable, ExplicitTaskParameters {
///     var phone: PhoneNumber      // init(from:) validates the number
///     var text: String
///     var sender: String?
///     static let taskParameters = TaskParameters(["phone", "text", "sender"], withDefaults: ["sender"])
/// }
/// ```
///
/// With `enum CodingKeys: String, CodingKey, CaseIterable` the names can be
/// `CodingKeys.allCases.map(\.stringValue)`.
public protocol ExplicitTaskParameters {
    /// The Python parameter list, in declaration order.
    static var taskParameters: TaskParameters { get }
}

/// An `Arguments` type whose parameter list the probe decoder could not read.
public struct TaskParametersError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The `Arguments` type, as Swift names it.
    public var typeName: String
    /// Why it could not be probed.
    public var reason: String

    public init(typeName: String, reason: String) {
        self.typeName = typeName
        self.reason = reason
    }

    public var description: String {
        "cannot read the parameter names of \(typeName): \(reason); conform it to ExplicitTaskParameters (or make an enum property CaseIterable)"
    }
}
