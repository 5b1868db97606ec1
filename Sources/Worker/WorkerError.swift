/// A worker problem described in one line for the log (a broken state file, a bad setting).
public struct WorkerError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
