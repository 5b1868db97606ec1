/// Why the dashboard cannot use this terminal: one line for stderr. `qmon` exits with
/// ``exitCode`` (4) after the terminal is restored.
public struct TerminalError: Error, Sendable, CustomStringConvertible {
    /// The line to print.
    public let message: String
    /// Exit status for every terminal problem.
    public static let exitCode: Int32 = 4

    /// Creates an error.
    public init(_ message: String) { self.message = message }

    /// The message.
    public var description: String { message }
}
