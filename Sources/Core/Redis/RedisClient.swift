public import Logging
internal import Foundation
#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// An async Redis client: one dedicated thread owns a ``RedisConnection``, and requests from any
/// task are queued to it.
///
/// Each time the thread is free it writes *all* queued requests as one pipeline and then reads
/// their replies, so many concurrent callers get pipelining without asking for it (one round
/// trip is ~25 µs of latency, a pipelined command ~1–2 µs).
///
/// A blocking command (BRPOP, BLMOVE) blocks the thread, and so every other request on this
/// client, until it returns: give blocking pops their own `RedisClient` and keep
/// ``RedisOptions/readTimeout`` `nil` (or longer than the pop timeout) on it.
///
/// ## Outages
/// When the connection drops, requests already written fail with
/// ``RedisError/Code/connectionLost`` (they may or may not have run). The thread logs one
/// warning, reconnects with capped exponential backoff (``RedisOptions/reconnectBackoff``),
/// replaying AUTH and SELECT, and logs one info line when it succeeds (or reports through a
/// shared ``RedisOptions/outageLog``). Requests queued meanwhile
/// wait (at most ``RedisOptions/maxOutageWait``) and are sent after the reconnect.
/// An idle connection closed by the server is noticed before the next write, so a server
/// restart between requests usually costs callers nothing.
///
/// Cancelling a calling task does not withdraw its request: once queued, a command is sent
/// (like a write already on the wire) and the caller still waits for its reply.
///
/// Do not send MULTI, WATCH, SUBSCRIBE or SELECT through ``send(_:)``: the connection is shared
/// by all callers; use ``transaction(_:)``, ``RedisSubscriber`` and ``RedisURL/database``.
public final class RedisClient: Sendable {
    private let core: RedisClientCore

    /// The server this client talks to.
    public var url: RedisURL { core.url }

    private init(core: RedisClientCore) {
        self.core = core
    }

    deinit {
        core.close()
    }

    /// Connects and starts the client's thread.
    ///
    /// The first connection must succeed, so a wrong URL or password fails fast; later outages
    /// are bridged by reconnecting.
    ///
    /// - Parameters:
    ///   - url: The server.
    ///   - options: Timeouts, backoff and the name used in log lines.
    ///   - logger: Receives the outage warning and the reconnect notice.
    /// - Throws: ``RedisError`` from the first connect (``RedisError/Code/connectionFailed``,
    ///   ``RedisError/Code/authenticationFailed``, …).
    public static func connect(
        url: RedisURL, options: RedisOptions = .init(), logger: Logger
    ) async throws(RedisError) -> RedisClient {
        let core = RedisClientCore(url: url, options: options, logger: logger)
        let started: Result<Void, RedisError> = await withCheckedContinuation { continuation in
            let thread = Thread { core.run(started: continuation) }
            thread.name = "redis-\(options.name)"
            thread.start()
        }
        try started.get()
        return RedisClient(core: core)
    }

    /// Sends one command.
    ///
    /// - Parameter command: The command.
    /// - Returns: Its reply; never `.error`.
    /// - Throws: ``RedisError/Code/server`` for an error reply; connection errors;
    ///   ``RedisError/Code/closed`` after ``close()``.
    public func send(_ command: RedisCommand) async throws(RedisError) -> RedisReply {
        let replies = try await core.submit([command]).get()
        if case .error(let message) = replies[0] { throw RedisError(.server, message) }
        return replies[0]
    }

    /// Sends one command without waiting: `completion` runs on the connection thread with its
    /// reply (an error reply as ``RedisError/Code/server``), so a caller that only reacts to
    /// the reply saves the hop back to a task. It must return quickly: the thread reads the
    /// next reply only after it.
    func send(_ command: RedisCommand, completion: @escaping @Sendable (Result<RedisReply, RedisError>) -> Void) {
        core.submit([command]) { result in
            completion(result.flatMap { replies in
                if case .error(let message) = replies[0] { return .failure(RedisError(.server, message)) }
                return .success(replies[0])
            })
        }
    }

    /// Sends the commands back to back and returns all replies.
    ///
    /// - Parameter commands: The commands; they are written contiguously, but other callers'
    ///   commands may run before or after them (use ``transaction(_:)`` for atomicity).
    /// - Returns: One reply per command; error replies are `.error` values.
    /// - Throws: Connection errors; ``RedisError/Code/closed`` after ``close()``.
    public func pipeline(_ commands: [RedisCommand]) async throws(RedisError) -> [RedisReply] {
        if commands.isEmpty { return [] }
        return try await core.submit(commands).get()
    }

    /// ``pipeline(_:)`` without waiting: `completion` runs on the connection thread with the
    /// replies (error replies as `.error` values) or the error, so a caller that only starts
    /// more work from the reply saves the hop to a task and back. It must return quickly: the
    /// thread reads the next reply only after it. After ``close()`` it runs at once, on the
    /// caller's thread, with ``RedisError/Code/closed``.
    public func pipeline(_ commands: [RedisCommand], completion: @escaping @Sendable (Result<[RedisReply], RedisError>) -> Void) {
        core.submit(commands, completion: completion)
    }

    /// Sends `count` chunks of commands made one at a time by `chunk(0)`, `chunk(1)`, …: each is
    /// queued for the connection thread as soon as it is made, so sending one overlaps making
    /// the next (a bulk producer's encoding and Redis' work run side by side instead of in
    /// turn). Chunks are written in order, contiguously within a chunk.
    ///
    /// - Returns: All replies, in command order; error replies are `.error` values.
    /// - Throws: The first connection error of any chunk; ``RedisError/Code/closed`` after
    ///   ``close()``. Chunks queued before the failure may have run.
    public func pipeline(chunks count: Int, _ chunk: (Int) -> [RedisCommand]) async throws(RedisError) -> [RedisReply] {
        let gatherer = RedisReplyGatherer(chunks: count)
        for index in 0..<count {
            let commands = chunk(index)
            core.submit(commands) { gatherer.complete(index, $0) }
        }
        return try await gatherer.replies().get()
    }

    /// Runs the commands atomically with MULTI … EXEC.
    ///
    /// - Parameter commands: The commands inside the transaction.
    /// - Returns: EXEC's replies, one per command.
    /// - Throws: ``RedisError/Code/server`` when Redis discarded the transaction; connection
    ///   errors; ``RedisError/Code/closed`` after ``close()``.
    public func transaction(_ commands: [RedisCommand]) async throws(RedisError) -> [RedisReply] {
        let replies = try await core.submit(RedisConnection.wrapTransaction(commands)).get()
        return try RedisConnection.unwrapTransaction(replies)
    }

    /// Stops the client: queued and in-flight requests fail with ``RedisError/Code/closed``
    /// (an in-flight blocking pop is interrupted) and the thread exits. Idempotent.
    public func close() {
        core.close()
    }
}

/// The state shared between ``RedisClient``'s callers and its connection thread.
///
/// The thread owns the `RedisConnection`; everything else is in ``state``. `RedisClient` holds
/// this object and closes it from `deinit`; the thread holds it until it exits.
final class RedisClientCore: Sendable {
    /// Runs once per request, on the connection thread or the caller's, with its replies or
    /// the error that prevented them.
    typealias Completion = @Sendable (Result<[RedisReply], RedisError>) -> Void

    struct Request: Sendable {
        let commands: [RedisCommand]
        let completion: Completion
        let enqueued: ContinuousClock.Instant
    }

    struct State: Sendable {
        var queue: [Request] = []
        var closed = false
        /// The socket while the thread waits for replies, so ``close()`` can `shutdown(2)` it to
        /// interrupt a blocking pop. Only valid under the lock: the thread clears it before it
        /// frees or replaces the connection.
        var activeDescriptor: Int32 = -1
        /// When the current outage began, if any.
        var outageStart: ContinuousClock.Instant?
        /// The thread sleeps with the connection healthy and nothing written or queued: a caller
        /// that finds it so may write its own request (``submit(_:completion:)``).
        var idle = false
        /// A caller owns the connection and is writing: the thread must not touch it.
        var callerWriting = false
        /// What a caller that wrote (or tried to) hands back to the thread.
        var handoff: Handoff?
    }

    /// A request a caller wrote itself, handed to the thread to read its replies.
    enum Handoff: Sendable {
        /// Written: the thread reads the replies.
        case written(Request)
        /// Not written (the server had closed the idle connection): it goes back to the queue.
        case unsent(Request, reason: String)
        /// The write broke the connection: the request fails (it may or may not have run).
        case failed(Request, RedisError)

        var request: Request {
            switch self {
            case .written(let request), .unsent(let request, _), .failed(let request, _): request
            }
        }
    }

    /// The connection, reachable from callers that write directly.
    ///
    /// `@unchecked Sendable` is sound because `connection` is only touched by whoever owns it,
    /// and ownership changes hands only under ``state``'s lock: the thread owns it except
    /// between a caller setting ``State/callerWriting`` (possible only while the thread sleeps
    /// in its idle wait, which does not return while the flag is set) and clearing it again.
    /// The lock's acquire and release order every access of one owner before the next one's.
    /// It is set once, by the thread, before ``RedisClient/connect(url:options:logger:)``
    /// returns, and the same object is kept across reconnects.
    final class ConnectionSlot: @unchecked Sendable {
        var connection: RedisConnection?
    }

    let url: RedisURL
    let options: RedisOptions
    let logger: Logger
    let state = RedisLockedState(State())
    private let slot = ConnectionSlot()

    /// The most request bytes a caller writes itself: the write must not block a task's thread
    /// on a full socket buffer; bigger requests go through the thread.
    static let directWriteLimit = 32 * 1024

    init(url: RedisURL, options: RedisOptions, logger: Logger) {
        self.url = url
        self.options = options
        self.logger = logger
    }

    // MARK: - Called from any task

    func submit(_ commands: [RedisCommand]) async -> Result<[RedisReply], RedisError> {
        await withCheckedContinuation { (continuation: CheckedContinuation<Result<[RedisReply], RedisError>, Never>) in
            submit(commands) { continuation.resume(returning: $0) }
        }
    }

    /// Queues a request for the thread, or writes it on the caller's thread when the connection
    /// is idle: the write then does not wait for the sleeping thread to be scheduled, which on
    /// a busy machine is a large part of a round trip. The thread still reads the replies and
    /// runs `completion`.
    func submit(_ commands: [RedisCommand], completion: @escaping Completion) {
        let request = Request(commands: commands, completion: completion, enqueued: .now)
        let small = Self.isSmall(commands)
        enum Route { case closed, queued, write }
        let route = state.withLock { state -> Route in
            guard !state.closed else { return .closed }
            if small, state.idle, state.queue.isEmpty, state.handoff == nil {
                state.idle = false
                state.callerWriting = true
                return .write
            }
            state.queue.append(request)
            return .queued
        }
        switch route {
        case .closed:
            completion(.failure(closedError))
        case .queued:
            state.broadcast()
        case .write:
            let handoff = write(request)
            state.withLockAndSignal { state in
                state.callerWriting = false
                state.handoff = handoff
            }
        }
    }

    private static func isSmall(_ commands: [RedisCommand]) -> Bool {
        var bytes = 0
        for command in commands {
            for argument in command.arguments { bytes += argument.count + 16 }
            if bytes > directWriteLimit { return false }
        }
        return true
    }

    /// Writes `request` on the caller's thread; only while the caller owns the connection.
    private func write(_ request: Request) -> Handoff {
        guard let connection = slot.connection else { return .unsent(request, reason: "no connection yet") }
        if connection.peerHasClosed() { return .unsent(request, reason: "the server closed the idle connection") }
        do {
            for command in request.commands { try connection.append(command) }
            try connection.flush()
            return .written(request)
        } catch {
            return .failed(request, error)
        }
    }

    func close() {
        let pending = state.withLockAndSignal { state -> [Request] in
            guard !state.closed else { return [] }
            state.closed = true
            if state.activeDescriptor >= 0 { _ = shutdown(state.activeDescriptor, Int32(SHUT_RDWR)) }
            defer { state.queue = [] }
            return state.queue
        }
        for request in pending { request.completion(.failure(closedError)) }
    }

    private var closedError: RedisError { RedisError(.closed, "redis \(options.name) client was closed") }

    // MARK: - The connection thread

    func run(started: CheckedContinuation<Result<Void, RedisError>, Never>) {
        let connection: RedisConnection
        do {
            connection = try RedisConnection(url: url, options: options)
        } catch {
            started.resume(returning: .failure(error))
            return
        }
        slot.connection = connection
        started.resume(returning: .success(()))
        var lostReason: String?
        enum Work { case batch([Request]), handoff(Handoff) }
        while true {
            if let reason = lostReason {
                guard reconnect(connection, reason: reason) else { break }
                lostReason = nil
            }
            let work = state.wait(
                until: nil,
                prepare: { $0.idle = $0.queue.isEmpty && $0.handoff == nil },
                ready: { ($0.handoff != nil || !$0.queue.isEmpty || $0.closed) && !$0.callerWriting }
            ) { state -> Work? in
                state.idle = false
                if let handoff = state.handoff {
                    state.handoff = nil
                    return .handoff(handoff)
                }
                guard !state.closed else { return nil }
                defer { state.queue = [] }
                return .batch(state.queue)
            }
            guard let work else { break }
            let batch: [Request]
            switch work {
            case .handoff(.written(let request)):
                if let error = readReplies([request], on: connection) { lostReason = error.message }
                continue
            case .handoff(.unsent(let request, let reason)):
                state.withLock { $0.queue.insert(request, at: 0) }
                lostReason = reason
                continue
            case .handoff(.failed(let request, let error)):
                request.completion(.failure(error))
                lostReason = error.message
                continue
            case .batch(let queued):
                batch = queued
            }
            if connection.peerHasClosed() {
                // Nothing was written: the batch goes back to the front of the queue.
                state.withLock { $0.queue.insert(contentsOf: batch, at: 0) }
                lostReason = "the server closed the idle connection"
                continue
            }
            if let error = execute(batch, on: connection) {
                lostReason = error.message
            }
        }
        connection.close()
        let leftovers = state.withLock { state -> [Request] in
            defer {
                state.queue = []
                state.handoff = nil
            }
            return (state.handoff.map { [$0.request] } ?? []) + state.queue
        }
        for request in leftovers { request.completion(.failure(closedError)) }
    }

    /// Writes the batch as one pipeline and completes each request with its replies. Returns
    /// the error that broke the connection, if any.
    private func execute(_ batch: [Request], on connection: RedisConnection) -> RedisError? {
        do {
            for request in batch {
                for command in request.commands { try connection.append(command) }
            }
        } catch {
            for request in batch { request.completion(.failure(error)) }
            return error
        }
        return readReplies(batch, on: connection)
    }

    /// Reads the replies of a written batch and completes each request. Returns the error that
    /// broke the connection, if any.
    private func readReplies(_ batch: [Request], on connection: RedisConnection) -> RedisError? {
        let descriptor = connection.fileDescriptor
        let closedAlready = state.withLock { state -> Bool in
            state.activeDescriptor = descriptor
            return state.closed
        }
        if closedAlready {
            // Nothing was written yet: fail without sending.
            state.withLock { $0.activeDescriptor = -1 }
            for request in batch { request.completion(.failure(closedError)) }
            connection.markBroken("closed")
            return nil
        }
        var failure: RedisError?
        for request in batch {
            if let failure {
                request.completion(.failure(failure))
                continue
            }
            var replies: [RedisReply] = []
            replies.reserveCapacity(request.commands.count)
            do {
                for _ in request.commands { replies.append(try connection.readReply()) }
                request.completion(.success(replies))
            } catch {
                let closed = state.withLock { $0.closed }
                let reported =
                    closed
                    ? RedisError(.closed, "redis \(options.name) client was closed while a request was in flight")
                    : error
                failure = reported
                request.completion(.failure(reported))
            }
        }
        state.withLock { $0.activeDescriptor = -1 }
        if let failure, failure.code == .closed { return nil }
        return failure
    }

    /// Reconnects with backoff, failing queued requests that waited longer than
    /// ``RedisOptions/maxOutageWait``. Returns `false` when the client was closed meanwhile.
    private func reconnect(_ connection: RedisConnection, reason: String) -> Bool {
        let outageStart = ContinuousClock.now
        let closed = state.withLock { state -> Bool in
            state.outageStart = outageStart
            return state.closed
        }
        if closed { return false }
        var outage = RedisConnectionOutage(options: options, url: url, logger: logger, reason: reason)
        var backoff = RedisBackoff(options.reconnectBackoff)
        while true {
            do {
                try connection.reconnect()
                break
            } catch {
                // Reported once per outage; each failed attempt would only repeat it.
                outage.attemptFailed()
            }
            let wakeAt = ContinuousClock.now + backoff.next()
            while ContinuousClock.now < wakeAt {
                var deadline = wakeAt
                if let limit = options.maxOutageWait { deadline = min(deadline, .now + limit) }
                let (isClosed, expired) = state.wait(until: deadline, ready: { $0.closed }) { state in
                    (state.closed, expire(&state, outageStart: outageStart))
                }
                for request in expired {
                    request.completion(
                        .failure(RedisError(.connectionLost, "redis \(options.name) at \(url) still unreachable: \(reason)")))
                }
                if isClosed { return false }
            }
            if state.withLock({ $0.closed }) { return false }
        }
        state.withLock { $0.outageStart = nil }
        outage.ended(after: ContinuousClock.now - outageStart)
        return true
    }

    /// Removes and returns queued requests whose outage wait is over.
    private func expire(_ state: inout State, outageStart: ContinuousClock.Instant) -> [Request] {
        guard let limit = options.maxOutageWait else { return [] }
        let now = ContinuousClock.now
        var expired: [Request] = []
        state.queue.removeAll { request in
            let waitingSince = max(request.enqueued, outageStart)
            guard now - waitingSince >= limit else { return false }
            expired.append(request)
            return true
        }
        return expired
    }
}
