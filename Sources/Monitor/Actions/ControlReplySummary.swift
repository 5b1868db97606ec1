public import Celeriac

/// The workers' replies to a control command, in one line for the operator and the log.
///
/// Celery workers answer `{"ok": "<text>"}` or `{"error": "<text>"}`; the line lists them by
/// node name (`w1@host: terminate: <id>; w2@host: error: unknown task`), so the outcome of an
/// action on many workers fits the status bar. No reply at all is a failure: nobody acted.
public struct ControlReplySummary: Sendable, Hashable {
    /// The one-line summary.
    public let line: String
    /// At least one worker replied `ok` (or anything but an error).
    public let anySucceeded: Bool
    /// How many workers replied.
    public let replyCount: Int

    /// The line when nobody replied.
    public static let noReply = "no worker replied"

    /// Summarises replies.
    ///
    /// - Parameter replies: Node name → reply, as ``Celeriac/ControlClient/broadcast(_:arguments:destination:reply:timeout:limit:)`` returns them.
    public init(_ replies: [String: JSONValue]) {
        replyCount = replies.count
        guard !replies.isEmpty else {
            line = Self.noReply
            anySucceeded = false
            return
        }
        var parts: [String] = []
        var ok = false
        for (node, reply) in replies.sorted(by: { $0.key < $1.key }) {
            if let error = reply["error"] {
                parts.append("\(node): error: \(Self.text(error))")
            } else if let text = reply["ok"] {
                ok = true
                parts.append("\(node): \(Self.text(text))")
            } else {
                ok = true
                parts.append("\(node): \(Self.text(reply))")
            }
        }
        line = parts.joined(separator: "; ")
        anySucceeded = ok
    }

    /// A reply value as text: strings as they are, anything else as compact JSON, on one line.
    static func text(_ value: JSONValue) -> String {
        let s = value.stringValue ?? String(decoding: value.serialized(style: .compact), as: UTF8.self)
        return s.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
