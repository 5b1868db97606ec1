/// The transient line above the key hints: the outcome of the last action, a feed notice, or
/// why a key did nothing. Cleared by the loop a while after it was set (``setAt``).
public struct StatusLine: Sendable, Hashable {
    /// How it reads.
    public enum Tone: Sendable, Hashable { case info, success, failure, pending }

    /// One line of text.
    public var text: String
    /// How it reads.
    public var tone: Tone
    /// Local time it was set; `nil` until the loop stamps it (key handling reads no clock).
    public var setAt: Double?

    /// Creates a status line.
    public init(_ text: String, tone: Tone = .info, setAt: Double? = nil) {
        self.text = text
        self.tone = tone
        self.setAt = setAt
    }
}
