/// An error from the Redis layer.
///
/// A struct with an extensible ``Code`` rather than an enum, so new failure kinds can be added
/// without breaking callers that switch over codes. Messages never contain a password: URLs in
/// them are redacted (see ``RedisURL/description``), server messages are scrubbed, and every
/// message passes through ``CredentialRedactor`` when the error is made.
public struct RedisError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure happened.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Backing: Hashable, Sendable {
            case invalidURL
            case connectionFailed
            case connectionLost
            case timeout
            case authenticationFailed
            case server
            case protocolViolation
            case closed
        }

        private let backing: Backing
        private init(_ backing: Backing) { self.backing = backing }

        /// The URL could not be parsed, or asks for something hiredis 0.14 cannot do (TLS).
        public static let invalidURL = Code(.invalidURL)
        /// A connection could not be established (refused, unreachable, DNS, connect timeout).
        public static let connectionFailed = Code(.connectionFailed)
        /// An established connection broke. Commands already written may or may not have run.
        public static let connectionLost = Code(.connectionLost)
        /// The server did not answer within ``RedisOptions/readTimeout``; the connection was dropped.
        public static let timeout = Code(.timeout)
        /// AUTH was rejected (wrong password or ACL user).
        public static let authenticationFailed = Code(.authenticationFailed)
        /// The server answered with an error reply (`-ERR …`, `-WRONGTYPE …`).
        public static let server = Code(.server)
        /// The server sent something that is not valid RESP, or a reply of an unexpected shape.
        public static let protocolViolation = Code(.protocolViolation)
        /// The client or subscriber was closed by its owner.
        public static let closed = Code(.closed)

        public var description: String {
            switch backing {
            case .invalidURL: "invalidURL"
            case .connectionFailed: "connectionFailed"
            case .connectionLost: "connectionLost"
            case .timeout: "timeout"
            case .authenticationFailed: "authenticationFailed"
            case .server: "server"
            case .protocolViolation: "protocolViolation"
            case .closed: "closed"
            }
        }
    }

    /// What kind of failure happened.
    public let code: Code
    /// A human-readable explanation, free of passwords.
    public let message: String

    /// Creates an error. Build `message` from redacted values (a ``RedisURL`` prints itself
    /// redacted); as a last guard it is passed through ``CredentialRedactor/redact(_:)``.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = CredentialRedactor.redact(message)
    }

    /// Whether the failure is about reaching the server (failed or lost connection, timeout, a
    /// server still loading its data after a restart),
    /// so that retrying later may succeed. Server error replies, bad URLs, wrong passwords and
    /// deliberate closing are not.
    public var isConnectionProblem: Bool {
        code == .connectionFailed || code == .connectionLost || code == .timeout || isLoading
    }

    /// A `-LOADING` reply: the server restarted and is reading its data back; retry shortly.
    public var isLoading: Bool { code == .server && Self.isLoadingReply(message) }

    /// Whether an error reply is Redis's `-LOADING` (shared by the reconnect check and callers
    /// that read error replies out of a pipeline).
    public static func isLoadingReply(_ message: String) -> Bool { message.hasPrefix("LOADING") }

    /// Whether Redis refused a write it may take later: out of memory under `maxmemory`
    /// (`OOM`), a replica after a failover (`READONLY`), a failed snapshot (`MISCONF`), too few
    /// replicas (`NOREPLICAS`), or a transaction discarded for one of those (``unwrapTransaction``
    /// reports it as `transaction discarded: <the refusal>`). Such a write is kept and retried,
    /// never dropped.
    public var isWriteRefused: Bool {
        guard code == .server else { return false }
        var reply = Substring(message)
        for prefix in [Self.discardedPrefix, Self.execFailedPrefix] where reply.hasPrefix(prefix) {
            reply = reply.dropFirst(prefix.count)
        }
        return Self.isWriteRefusalReply(reply)
    }

    /// How ``RedisConnection`` reports a transaction whose commands were refused as queued,
    /// and one whose `EXEC` was.
    static let discardedPrefix = "transaction discarded: "
    static let execFailedPrefix = "transaction failed: "

    /// Whether an error reply is one of the refusals of ``isWriteRefused``.
    public static func isWriteRefusalReply(_ message: some StringProtocol) -> Bool {
        message.hasPrefix("OOM ") || message.hasPrefix("READONLY ") || message.hasPrefix("MISCONF ") || message.hasPrefix("NOREPLICAS ")
    }

    public var description: String { "RedisError.\(code): \(message)" }
}
