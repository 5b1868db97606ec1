/// The arguments of a task that takes none (`def send_sms2():`): a Python client calls it as
/// `send_sms2.delay()`, and any argument is a `TypeError`, as in Python.
///
/// Codes as an empty object, and decodes from any object (binding has already refused extra arguments).
public struct NoArguments: Codable, Sendable, Hashable {
    public init() {}

    public init(from decoder: any Decoder) throws {}

    public func encode(to encoder: any Encoder) throws {
        _ = encoder.container(keyedBy: JSONCodingKey.self)
    }
}
