internal import CHiredis
#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// A synchronous connection that solely owns one hiredis `redisContext`.
///
/// Not `Sendable`: a hiredis context must be used by one thread at a time, so the thread that
/// creates a connection keeps it. ``RedisClient`` and ``RedisSubscriber`` each run one on a
/// dedicated thread and give async code a `Sendable` front.
///
/// Any I/O failure (including a read timeout) leaves hiredis' context unusable, so after
/// ``RedisError/Code/connectionLost`` or ``RedisError/Code/timeout`` the connection reports
/// ``isConnected`` `false` and every call fails until ``reconnect()``.
///
/// Creating a connection makes the process ignore `SIGPIPE`: hiredis 0.14 writes with
/// `write(2)`, and a write to a socket the server closed would otherwise kill the process.
public final class RedisConnection {
    /// Where this connection goes.
    public let url: RedisURL
    /// The options it was created with.
    public let options: RedisOptions

    private var context: UnsafeMutablePointer<redisContext>?
    /// Why the connection is unusable, when it is.
    private var brokenReason: String?
    /// Scratch space for ``append(_:)``.
    private var resp: [UInt8] = []

    /// Connects, authenticates and selects the database.
    ///
    /// - Parameters:
    ///   - url: The server; `username`/`password` are sent with AUTH, `database` with SELECT.
    ///   - options: Timeouts; ``RedisOptions/connectTimeout`` also bounds the handshake.
    /// - Throws: ``RedisError`` with ``RedisError/Code/connectionFailed``,
    ///   ``RedisError/Code/timeout`` or ``RedisError/Code/authenticationFailed``.
    public init(url: RedisURL, options: RedisOptions = .init()) throws(RedisError) {
        Self.ignoreSIGPIPE
        self.url = url
        self.options = options
        try open()
    }

    deinit {
        if let context { redisFree(context) }
    }

    /// Whether the last operation left the connection usable.
    public var isConnected: Bool { context != nil && brokenReason == nil }

    /// Drops the current socket (if any) and connects again, replaying AUTH and SELECT, and
    /// waits out a server that is still loading its data after a restart.
    ///
    /// - Throws: The same errors as ``init(url:options:)``.
    public func reconnect() throws(RedisError) {
        try open()
        try waitUntilServing()
    }

    /// Sends one command and waits for its reply.
    ///
    /// - Parameter command: The command.
    /// - Returns: The reply; never `.error`.
    /// - Throws: ``RedisError/Code/server`` for an error reply, or a connection error.
    public func send(_ command: RedisCommand) throws(RedisError) -> RedisReply {
        try append(command)
        let reply = try readReply()
        if case .error(let message) = reply { throw RedisError(.server, scrub(message)) }
        return reply
    }

    /// Writes all commands at once, then reads all replies: one round trip instead of N.
    ///
    /// - Parameter commands: The commands, in order.
    /// - Returns: One reply per command; error replies are returned as `.error` values.
    /// - Throws: A connection error; replies read before it are lost with it.
    public func pipeline(_ commands: [RedisCommand]) throws(RedisError) -> [RedisReply] {
        for command in commands { try append(command) }
        var replies: [RedisReply] = []
        replies.reserveCapacity(commands.count)
        for _ in commands { replies.append(try readReply()) }
        return replies
    }

    /// Runs the commands atomically as `MULTI` … `EXEC`, written as one pipeline.
    ///
    /// - Parameter commands: The commands inside the transaction.
    /// - Returns: EXEC's replies, one per command (errors raised at run time, such as
    ///   WRONGTYPE, are `.error` values: Redis does not roll back).
    /// - Throws: ``RedisError/Code/server`` when a command was rejected while queueing (the
    ///   whole transaction is discarded) or EXEC was aborted; or a connection error.
    public func transaction(_ commands: [RedisCommand]) throws(RedisError) -> [RedisReply] {
        let wrapped = Self.wrapTransaction(commands)
        let replies = try pipeline(wrapped)
        return try Self.unwrapTransaction(replies)
    }

    // MARK: - Transactions (shared with RedisClient)

    /// `commands` between MULTI and EXEC, for callers that pipeline a transaction with other writes.
    public static func wrapTransaction(_ commands: [RedisCommand]) -> [RedisCommand] {
        [RedisCommand("MULTI")] + commands + [RedisCommand("EXEC")]
    }

    static func unwrapTransaction(_ replies: [RedisReply]) throws(RedisError) -> [RedisReply] {
        for reply in replies.dropLast() {
            if case .error(let message) = reply {
                throw RedisError(.server, RedisError.discardedPrefix + message)
            }
        }
        switch replies.last {
        case .array(let results): return results
        case .null: throw RedisError(.server, "transaction aborted: a WATCHed key changed")
        case .error(let message): throw RedisError(.server, RedisError.execFailedPrefix + message)
        default: throw RedisError(.protocolViolation, "EXEC returned neither an array nor nil")
        }
    }

    // MARK: - Internal API for RedisClient and RedisSubscriber

    /// The socket, for `poll(2)` and for `shutdown(2)` from another thread; -1 when closed.
    var fileDescriptor: Int32 {
        guard let context, brokenReason == nil else { return -1 }
        return context.pointee.fd
    }

    /// Adds a command to hiredis' output buffer; nothing is written yet.
    ///
    /// The command is written as RESP into ``resp`` (reused, so appending allocates nothing)
    /// and handed over with `redisAppendFormattedCommand`, which copies it once into the
    /// output buffer: `redisAppendCommandArgv` needed a contiguous copy, two index arrays and
    /// its own formatted copy, which showed in bulk sends of kilobyte messages.
    func append(_ command: RedisCommand) throws(RedisError) {
        let context = try usableContext()
        resp.removeAll(keepingCapacity: true)
        Self.writeRESP(command.arguments, into: &resp)
        let status = resp.withUnsafeBufferPointer { bytes in
            bytes.withMemoryRebound(to: CChar.self) { redisAppendFormattedCommand(context, $0.baseAddress, $0.count) }
        }
        // One huge value should not pin its buffer for the connection's lifetime.
        if resp.capacity > Self.retainedRESPCapacity { resp = [] }
        if status != REDIS_OK { throw fail(context) }
    }

    /// The RESP request form: `*<count>\r\n` then `$<length>\r\n<bytes>\r\n` per argument.
    static func writeRESP(_ arguments: [[UInt8]], into out: inout [UInt8]) {
        out.reserveCapacity(out.count + arguments.reduce(16) { $0 + $1.count + 16 })
        out.append(UInt8(ascii: "*"))
        writeDecimal(arguments.count, into: &out)
        for argument in arguments {
            out.append(UInt8(ascii: "$"))
            writeDecimal(argument.count, into: &out)
            out.append(contentsOf: argument)
            out.append(13)
            out.append(10)
        }
    }

    /// `value` in decimal followed by CRLF.
    private static func writeDecimal(_ value: Int, into out: inout [UInt8]) {
        if value < 10 {
            out.append(0x30 + UInt8(value))
        } else {
            out.append(contentsOf: String(value).utf8)
        }
        out.append(13)
        out.append(10)
    }

    private static let retainedRESPCapacity = 1 << 20

    /// Flushes the output buffer if needed and blocks until one reply is read.
    func readReply() throws(RedisError) -> RedisReply {
        let context = try usableContext()
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw fail(context) }
        defer { freeReplyObject(raw) }
        return Self.copy(raw.assumingMemoryBound(to: redisReply.self))
    }

    /// Writes the whole output buffer (blocking).
    func flush() throws(RedisError) {
        let context = try usableContext()
        var done: Int32 = 0
        while done == 0 {
            if redisBufferWrite(context, &done) != REDIS_OK { throw fail(context) }
        }
    }

    /// Reads what the socket has into hiredis' reader; call only when `poll` says readable,
    /// or it blocks.
    func readIntoBuffer() throws(RedisError) {
        let context = try usableContext()
        if redisBufferRead(context) != REDIS_OK { throw fail(context) }
    }

    /// A reply already parsed from the read buffer, without touching the socket.
    func bufferedReply() throws(RedisError) -> RedisReply? {
        let context = try usableContext()
        var raw: UnsafeMutableRawPointer?
        guard redisGetReplyFromReader(context, &raw) == REDIS_OK else { throw fail(context) }
        guard let raw else { return nil }
        defer { freeReplyObject(raw) }
        return Self.copy(raw.assumingMemoryBound(to: redisReply.self))
    }

    /// Whether an idle connection was closed by the peer (or has unexpected data waiting),
    /// checked without blocking. Used before writing to a connection that sat idle, so a
    /// server restart costs a reconnect instead of a failed request.
    func peerHasClosed() -> Bool {
        let fd = fileDescriptor
        guard fd >= 0 else { return true }
        var pollfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let ready = poll(&pollfd, 1, 0)
        if ready <= 0 { return false }
        if pollfd.revents & Int16(POLLIN | POLLHUP | POLLERR) == 0 { return false }
        markBroken("the server closed the connection")
        return true
    }

    /// Marks the connection unusable, e.g. when the owner gave up on a reply.
    func markBroken(_ reason: String) {
        if brokenReason == nil { brokenReason = reason }
    }

    /// Frees the context now instead of at deinit.
    func close() {
        if let context { redisFree(context) }
        context = nil
        brokenReason = "closed"
    }

    // MARK: - Connecting

    private func open() throws(RedisError) {
        close()
        let connectTimeout = options.connectTimeout.asTimeval
        let newContext: UnsafeMutablePointer<redisContext>?
        switch url.endpoint {
        case .tcp(let host, let port):
            newContext = redisConnectWithTimeout(host, Int32(port), connectTimeout)
        case .unix(let path):
            newContext = redisConnectUnixWithTimeout(path, connectTimeout)
        }
        guard let newContext else {
            throw RedisError(.connectionFailed, "cannot connect to \(url): out of memory")
        }
        if newContext.pointee.err != 0 {
            let reason = Self.errorString(newContext)
            redisFree(newContext)
            throw RedisError(.connectionFailed, "cannot connect to \(url): \(reason)")
        }
        context = newContext
        brokenReason = nil
        if case .tcp = url.endpoint { _ = redisEnableKeepAlive(newContext) }
        do {
            // The handshake must not hang forever even when readTimeout is nil.
            try setSocketTimeout(options.connectTimeout)
            try handshake()
            try setSocketTimeout(options.readTimeout)
        } catch {
            close()
            throw error
        }
    }

    private func handshake() throws(RedisError) {
        if let password = url.password {
            var auth = RedisCommand("AUTH")
            if let username = url.username { auth.arguments.append(Array(username.utf8)) }
            auth.arguments.append(Array(password.utf8))
            let reply: RedisReply
            do {
                try append(auth)
                reply = try readReply()
            } catch {
                throw RedisError(error.code, "while authenticating to \(url): \(error.message)")
            }
            if case .error(let message) = reply {
                let who = url.username.map { "user '\($0)'" } ?? "the default user"
                throw RedisError(
                    .authenticationFailed,
                    "authentication to \(url) as \(who) failed: \(scrub(message))")
            }
        }
        if url.database != 0 {
            let reply: RedisReply
            do {
                try append(RedisCommand("SELECT", url.database))
                reply = try readReply()
            } catch {
                throw RedisError(error.code, "while selecting database \(url.database) on \(url): \(error.message)")
            }
            if case .error(let message) = reply {
                throw RedisError(.server, "cannot select database \(url.database) on \(url): \(scrub(message))")
            }
        }
    }

    /// A restarted server answers -LOADING until its data is back. After a reconnect the
    /// connection counts as up only once it would serve commands, so callers never see that
    /// transient error; other error replies (NOAUTH, …) are left for the first real command.
    private func waitUntilServing() throws(RedisError) {
        let ping: RedisReply
        do {
            // Bounded like the handshake, even on connections without a read timeout.
            try setSocketTimeout(options.connectTimeout)
            try append(RedisCommand("PING"))
            ping = try readReply()
            try setSocketTimeout(options.readTimeout)
        } catch {
            close()
            throw RedisError(error.code, "while pinging \(url): \(error.message)")
        }
        if case .error(let message) = ping, RedisError.isLoadingReply(message) {
            close()
            throw RedisError(.connectionFailed, "\(url) is not serving yet: \(scrub(message))")
        }
    }

    private func setSocketTimeout(_ duration: Duration?) throws(RedisError) {
        let context = try usableContext()
        // A zero timeval means "no timeout" to SO_RCVTIMEO.
        let tv = duration?.asTimeval ?? timeval(tv_sec: 0, tv_usec: 0)
        if redisSetTimeout(context, tv) != REDIS_OK { throw fail(context) }
    }

    // MARK: - Errors

    private func usableContext() throws(RedisError) -> UnsafeMutablePointer<redisContext> {
        guard let context else {
            throw RedisError(.connectionLost, "not connected to \(url): \(brokenReason ?? "closed")")
        }
        if let brokenReason {
            throw RedisError(.connectionLost, "not connected to \(url) (\(brokenReason)); reconnect first")
        }
        return context
    }

    /// Turns hiredis' error state into a `RedisError` and marks the connection broken.
    private func fail(_ context: UnsafeMutablePointer<redisContext>) -> RedisError {
        let savedErrno = errno
        let reason = Self.errorString(context)
        let code: RedisError.Code
        switch context.pointee.err {
        case REDIS_ERR_IO where savedErrno == EAGAIN || savedErrno == EWOULDBLOCK
            || reason == String(cString: strerror(EAGAIN)):
            code = .timeout
        case REDIS_ERR_PROTOCOL:
            code = .protocolViolation
        default:
            code = .connectionLost
        }
        let message =
            code == .timeout
            ? "no reply from \(url) within \(options.readTimeout.map { "\($0)" } ?? "the timeout")"
            : "connection to \(url) lost: \(reason)"
        markBroken(code == .timeout ? "read timed out" : reason)
        return RedisError(code, message)
    }

    /// Removes the password from a server message, in case a server ever echoes it.
    private func scrub(_ message: String) -> String {
        guard let password = url.password, !password.isEmpty else { return message }
        return message.replacingAll(password, with: "***")
    }

    private static func errorString(_ context: UnsafeMutablePointer<redisContext>) -> String {
        let text = withUnsafeBytes(of: &context.pointee.errstr) { raw -> String in
            let bytes = raw.prefix(while: { $0 != 0 })
            return String(decoding: bytes, as: UTF8.self)
        }
        return text.isEmpty ? "unknown error (hiredis code \(context.pointee.err))" : text
    }

    private static let ignoreSIGPIPE: Void = {
        _ = signal(SIGPIPE, SIG_IGN)
    }()

    // MARK: - Copying replies

    /// Copies a C reply tree into Swift values; the caller frees the top-level C reply.
    static func copy(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let r = reply.pointee
        switch r.type {
        case REDIS_REPLY_STRING:
            return .bulk(bytes(r.str, r.len))
        case REDIS_REPLY_STATUS:
            return .status(String(decoding: bytes(r.str, r.len), as: UTF8.self))
        case REDIS_REPLY_ERROR:
            return .error(String(decoding: bytes(r.str, r.len), as: UTF8.self))
        case REDIS_REPLY_INTEGER:
            return .integer(Int(r.integer))
        case REDIS_REPLY_NIL:
            return .null
        case REDIS_REPLY_ARRAY:
            var elements: [RedisReply] = []
            elements.reserveCapacity(r.elements)
            for index in 0..<r.elements {
                if let element = r.element?[index] {
                    elements.append(copy(element))
                } else {
                    elements.append(.null)
                }
            }
            return .array(elements)
        default:
            return .error("unknown hiredis reply type \(r.type)")
        }
    }

    private static func bytes(_ pointer: UnsafeMutablePointer<CChar>?, _ length: Int) -> [UInt8] {
        guard let pointer, length > 0 else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: length))
    }
}

extension Duration {
    /// The duration as a `timeval`, rounded up to whole microseconds (never zero unless zero).
    var asTimeval: timeval {
        let (seconds, attoseconds) = components
        var micros = (attoseconds + 999_999_999_999) / 1_000_000_000_000
        var secs = seconds
        if micros >= 1_000_000 {
            secs += 1
            micros -= 1_000_000
        }
        return .init(tv_sec: Int(max(0, secs)), tv_usec: Int(max(0, micros)))
    }

    /// The duration in seconds as a `Double`, for log lines.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

extension String {
    /// Replaces every occurrence of `target`, without Foundation.
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = ""
        var rest = self[...]
        while let range = rest.firstRange(of: target) {
            result += rest[..<range.lowerBound]
            result += replacement
            rest = rest[range.upperBound...]
        }
        result += rest
        return result
    }
}
