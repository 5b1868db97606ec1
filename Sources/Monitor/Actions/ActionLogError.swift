/// The action log could not be written.
public struct ActionLogError: Error, Sendable, CustomStringConvertible {
    /// The log file.
    public let path: String
    /// Why.
    public let reason: String

    public var description: String { "cannot write the action log \(path): \(reason)" }
}
