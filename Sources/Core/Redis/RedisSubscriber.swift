public import Logging
internal import Foundation
#if canImport(Glibc)
internal import Glibc
#elseif canImport(Darwin)
internal import Darwin
#endif

/// A pub/sub subscriber: one dedicated thread owns a connection in subscribe mode and calls a
/// handler for every message.
///
/// The loop never blocks in a hiredis read, so it never hits a socket timeout (which would kill
/// the context) and can be stopped at once: it drains replies hiredis already parsed, `poll`s
/// the socket together with a wake-up pipe, reads what arrived, and drains again.
/// Subscription changes requested from any task are queued and written by the loop thread.
///
/// The handler runs on the loop thread, in message order; it must return quickly (hand work
/// to a task or stream), because while it runs no other message is read.
///
/// ## Outages
/// On connection loss the loop logs one warning (or reports through a shared
/// ``RedisOptions/outageLog``), reconnects with backoff
/// (``RedisOptions/reconnectBackoff``), replays AUTH, SELECT and every current subscription and
/// pattern subscription, and once Redis confirmed them delivers ``RedisPubSubEvent/reconnected``.
/// Subscription changes in flight when the connection broke fail with
/// ``RedisError/Code/connectionLost`` and may or may not be in effect; repeating them is harmless.
public final class RedisSubscriber: Sendable {
    private let core: RedisSubscriberCore

    private init(core: RedisSubscriberCore) {
        self.core = core
    }

    deinit {
        core.close()
    }

    /// Connects and starts the loop thread; no channel is subscribed yet.
    ///
    /// - Parameters:
    ///   - url: The server.
    ///   - options: Connect timeout, backoff and log name (``RedisOptions/readTimeout`` is not
    ///     used: the loop polls instead of blocking).
    ///   - logger: Receives the outage warning and the reconnect notice.
    ///   - handler: Called on the loop thread for each event.
    /// - Throws: ``RedisError`` from the first connect.
    public static func connect(
        url: RedisURL, options: RedisOptions = .init(), logger: Logger,
        handler: @escaping @Sendable (RedisPubSubEvent) -> Void
    ) async throws(RedisError) -> RedisSubscriber {
        let core = try RedisSubscriberCore(url: url, options: options, logger: logger, handler: handler)
        let started: Result<Void, RedisError> = await withCheckedContinuation { continuation in
            let thread = Thread { core.run(started: continuation) }
            thread.name = "redis-\(options.name)-pubsub"
            thread.start()
        }
        try started.get()
        return RedisSubscriber(core: core)
    }

    /// Subscribes to channels; returns after Redis confirmed every one of them.
    ///
    /// - Parameter channels: Exact channel names.
    /// - Throws: ``RedisError/Code/connectionLost`` if the connection broke meanwhile;
    ///   ``RedisError/Code/closed`` after ``close()``.
    public func subscribe(_ channels: [String]) async throws(RedisError) {
        try await core.submit(.subscribe, channels).get()
    }

    /// Subscribes to channels without waiting: `whenConfirmed` runs on the loop thread once
    /// Redis confirmed every one of them (or with the error that prevented it). For callers
    /// that must not spend a round trip here, such as a client that publishes a task while
    /// its result subscription is on the way; requests are written in call order, so a later
    /// ``unsubscribe(_:)`` of the same channel still comes after it.
    ///
    /// - Parameter deferred: Leave the loop asleep: the request is written with the next one
    ///   that wakes it, when anything arrives, on ``flush()``, once ``deferredWakeLimit`` names
    ///   are waiting, or at the latest after ``RedisOptions/subscriberIdleWake``. For a caller
    ///   that sends one task at a time and may never wait for its result, waking the loop
    ///   thread for each subscription cost more than the send itself (two more context
    ///   switches on a busy machine); who waits calls ``flush()``.
    public func subscribe(
        _ channels: [String], deferred: Bool = false, whenConfirmed: @escaping @Sendable (Result<Void, RedisError>) -> Void
    ) {
        core.submit(.subscribe, channels, deferred: deferred, completion: whenConfirmed)
    }

    /// Unsubscribes from channels (all of them when `channels` is empty); returns once confirmed.
    public func unsubscribe(_ channels: [String]) async throws(RedisError) {
        try await core.submit(.unsubscribe, channels).get()
    }

    /// Unsubscribes from channels (all of them when `channels` is empty) without waiting;
    /// `whenConfirmed` runs on the loop thread once Redis confirmed. `deferred` as for
    /// ``subscribe(_:deferred:whenConfirmed:)``.
    public func unsubscribe(
        _ channels: [String], deferred: Bool = false, whenConfirmed: @escaping @Sendable (Result<Void, RedisError>) -> Void
    ) {
        core.submit(.unsubscribe, channels, deferred: deferred, completion: whenConfirmed)
    }

    /// Wakes the loop so that deferred requests are written now.
    public func flush() {
        core.flush()
    }

    /// How many times a caller has woken the loop (a request, ``flush()``, ``close()``).
    ///
    /// For tests: a deferred request that leaves this unchanged is certain not to be written
    /// until something else wakes the loop, which a test can check at once instead of
    /// sleeping and then seeing that Redis has not received it.
    var callerWakeUps: Int { core.state.withLock { $0.callerWakeUps } }

    /// Deferred requests naming this many channels in all wake the loop anyway, so a bulk
    /// producer's backlog of subscriptions stays short.
    public static let deferredWakeLimit = RedisSubscriberCore.deferredWakeLimit

    /// Subscribes to glob-style patterns such as `celeryev.*`; returns once confirmed.
    public func psubscribe(_ patterns: [String]) async throws(RedisError) {
        try await core.submit(.psubscribe, patterns).get()
    }

    /// Removes pattern subscriptions (all of them when `patterns` is empty); returns once confirmed.
    public func punsubscribe(_ patterns: [String]) async throws(RedisError) {
        try await core.submit(.punsubscribe, patterns).get()
    }

    /// Stops the loop and closes its connection; pending calls fail with
    /// ``RedisError/Code/closed``. Idempotent, and it does not wait for the thread.
    public func close() {
        core.close()
    }
}

/// The state shared between ``RedisSubscriber``'s callers and its loop thread, plus the
/// wake-up pipe that lets callers interrupt the loop's `poll`.
final class RedisSubscriberCore: Sendable {
    /// Runs once per request, on the loop thread or the caller's: with success once Redis
    /// confirmed every name, else with the error.
    typealias Completion = @Sendable (Result<Void, RedisError>) -> Void

    enum Kind: String, Sendable {
        case subscribe = "SUBSCRIBE"
        case unsubscribe = "UNSUBSCRIBE"
        case psubscribe = "PSUBSCRIBE"
        case punsubscribe = "PUNSUBSCRIBE"
    }

    struct Request: Sendable {
        let kind: Kind
        let names: [String]
        let completion: Completion
        let enqueued: ContinuousClock.Instant
    }

    struct State: Sendable {
        var queue: [Request] = []
        /// Names in `queue`'s deferred requests since the loop last took it.
        var deferredNames = 0
        var closed = false
        /// Counts the wake-ups callers asked for (see ``RedisSubscriber/callerWakeUps``).
        var callerWakeUps = 0
        /// The connected socket, so ``close()`` can `shutdown(2)` it from the caller's thread:
        /// Redis drops the subscriptions at once even if the loop is busy in the handler. Only
        /// valid under the lock; the loop clears it before it frees or replaces the connection.
        var activeDescriptor: Int32 = -1
    }

    let url: RedisURL
    let options: RedisOptions
    let logger: Logger
    let handler: @Sendable (RedisPubSubEvent) -> Void
    let state = RedisLockedState(State())
    /// Read and write ends of a non-blocking pipe. Closed only in `deinit`, i.e. after both the
    /// loop thread and the public object let go, so a late `wake()` never hits a reused fd.
    private let wakeRead: Int32
    private let wakeWrite: Int32

    init(
        url: RedisURL, options: RedisOptions, logger: Logger,
        handler: @escaping @Sendable (RedisPubSubEvent) -> Void
    ) throws(RedisError) {
        var options = options
        // The loop polls; a socket timeout would only kill an idle subscription.
        options.readTimeout = nil
        self.url = url
        self.options = options
        self.logger = logger
        self.handler = handler
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else {
            throw RedisError(.connectionFailed, "cannot create a wake-up pipe: \(String(cString: strerror(errno)))")
        }
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        wakeRead = fds[0]
        wakeWrite = fds[1]
    }

    deinit {
        close(descriptor: wakeRead)
        close(descriptor: wakeWrite)
    }

    // MARK: - Called from any task

    func submit(_ kind: Kind, _ names: [String]) async -> Result<Void, RedisError> {
        await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, RedisError>, Never>) in
            submit(kind, names) { continuation.resume(returning: $0) }
        }
    }

    func submit(_ kind: Kind, _ names: [String], deferred: Bool = false, completion: @escaping Completion) {
        if names.isEmpty && (kind == .subscribe || kind == .psubscribe) { return completion(.success(())) }
        // nil: closed; false: queued without waking the loop.
        let accepted = state.withLock { state -> Bool? in
            guard !state.closed else { return nil }
            state.queue.append(Request(kind: kind, names: names, completion: completion, enqueued: .now))
            var wakes = true
            if deferred {
                state.deferredNames += max(names.count, 1)
                wakes = state.deferredNames >= Self.deferredWakeLimit
            }
            if wakes { state.callerWakeUps += 1 }
            return wakes
        }
        switch accepted {
        case nil: completion(.failure(closedError))
        case true?: wake()
        case false?: break
        }
    }

    static let deferredWakeLimit = 1024

    func flush() {
        let wakes = state.withLock { state -> Bool in
            guard !state.queue.isEmpty else { return false }
            state.callerWakeUps += 1
            return true
        }
        if wakes { wake() }
    }

    func close() {
        let pending = state.withLockAndSignal { state -> [Request] in
            guard !state.closed else { return [] }
            state.closed = true
            if state.activeDescriptor >= 0 { _ = shutdown(state.activeDescriptor, Int32(SHUT_RDWR)) }
            defer { state.queue = [] }
            return state.queue
        }
        wake()
        for request in pending { request.completion(.failure(closedError)) }
    }

    private var closedError: RedisError { RedisError(.closed, "redis \(options.name) subscriber was closed") }

    private func wake() {
        var byte: UInt8 = 1
        // A full pipe already guarantees a wake-up, so EAGAIN is fine.
        _ = write(wakeWrite, &byte, 1)
    }

    private func drainWakePipe() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(wakeRead, &buffer, buffer.count) > 0 {}
    }

    private func close(descriptor: Int32) {
        #if canImport(Glibc)
        _ = Glibc.close(descriptor)
        #else
        _ = Darwin.close(descriptor)
        #endif
    }

    // MARK: - The loop thread

    /// A subscription command written and not yet fully confirmed, or a marker that fires once
    /// everything before it is confirmed.
    private struct Awaiting {
        enum Action {
            case user(Completion)
            case replay
            case reconnected
        }
        var remaining: Int
        let action: Action
    }

    /// Everything only the loop thread touches.
    private struct Loop {
        /// Can hold every result channel of a bulk producer, hence the prehashed keys.
        var channels: Set<PrehashedKey> = []
        var patterns: Set<String> = []
        var awaiting: [Awaiting] = []
    }

    /// ``RedisOptions/subscriberIdleWake`` as `poll` takes it.
    private var idleWakeMilliseconds: Int32 {
        Int32(clamping: max(Int((options.subscriberIdleWake / .milliseconds(1)).rounded()), 1))
    }

    func run(started: CheckedContinuation<Result<Void, RedisError>, Never>) {
        let connection: RedisConnection
        do {
            connection = try RedisConnection(url: url, options: options)
        } catch {
            started.resume(returning: .failure(error))
            return
        }
        started.resume(returning: .success(()))
        publish(connection.fileDescriptor)
        var loop = Loop()
        var lostReason: String?
        while true {
            if let reason = lostReason {
                publish(-1)
                if state.withLock({ $0.closed }) { break }
                failAwaiting(&loop, with: RedisError(.connectionLost, "connection to \(url) lost: \(reason)"))
                guard reconnect(connection, reason: reason) else { break }
                publish(connection.fileDescriptor)
                lostReason = nil
                do {
                    try replay(&loop, on: connection)
                } catch {
                    lostReason = error.message
                    continue
                }
            }
            let (closed, requests) = state.withLock { state -> (Bool, [Request]) in
                defer {
                    state.queue = []
                    state.deferredNames = 0
                }
                return (state.closed, state.queue)
            }
            if closed { break }
            drainWakePipe()
            do {
                if !requests.isEmpty {
                    for request in requests { try send(request, &loop, on: connection) }
                    try connection.flush()
                }
                try drain(&loop, connection)
                let descriptor = connection.fileDescriptor
                var fds = [
                    pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0),
                    pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0),
                ]
                let ready = poll(&fds, 2, idleWakeMilliseconds)
                if ready > 0 && fds[0].revents != 0 {
                    try connection.readIntoBuffer()
                    try drain(&loop, connection)
                }
            } catch {
                lostReason = error.message
            }
        }
        publish(-1)
        connection.close()
        failAwaiting(&loop, with: closedError)
        let leftovers = state.withLock { state -> [Request] in
            defer { state.queue = [] }
            return state.queue
        }
        for request in leftovers { request.completion(.failure(closedError)) }
    }

    /// Makes the socket visible to ``close()`` (or hides it, with -1). If the subscriber was
    /// closed before the socket was published, shut it down now.
    private func publish(_ descriptor: Int32) {
        state.withLock { state in
            state.activeDescriptor = descriptor
            if state.closed && descriptor >= 0 { _ = shutdown(descriptor, Int32(SHUT_RDWR)) }
        }
    }

    private func send(_ request: Request, _ loop: inout Loop, on connection: RedisConnection) throws(RedisError) {
        var names = request.names
        switch request.kind {
        case .subscribe:
            loop.channels.formUnion(names.lazy.map(PrehashedKey.init))
        case .psubscribe:
            loop.patterns.formUnion(names)
        case .unsubscribe:
            if names.isEmpty { names = loop.channels.map(\.string).sorted() }
            loop.channels.subtract(names.lazy.map(PrehashedKey.init))
        case .punsubscribe:
            if names.isEmpty { names = loop.patterns.sorted() }
            loop.patterns.subtract(names)
        }
        if names.isEmpty {
            // "Unsubscribe from all" with nothing subscribed: Redis would answer with a reply
            // naming no channel; there is nothing to wait for.
            request.completion(.success(()))
            return
        }
        do {
            try connection.append(RedisCommand(request.kind.rawValue, arguments: names))
        } catch {
            request.completion(.failure(error))
            throw error
        }
        // Redis confirms each argument separately, duplicates included.
        loop.awaiting.append(Awaiting(remaining: names.count, action: .user(request.completion)))
    }

    /// After a reconnect: subscribe again to everything and deliver `.reconnected` once Redis
    /// confirmed it.
    private func replay(_ loop: inout Loop, on connection: RedisConnection) throws(RedisError) {
        if !loop.channels.isEmpty {
            let names = loop.channels.map(\.string).sorted()
            try connection.append(RedisCommand("SUBSCRIBE", arguments: names))
            loop.awaiting.append(Awaiting(remaining: names.count, action: .replay))
        }
        if !loop.patterns.isEmpty {
            let names = loop.patterns.sorted()
            try connection.append(RedisCommand("PSUBSCRIBE", arguments: names))
            loop.awaiting.append(Awaiting(remaining: names.count, action: .replay))
        }
        loop.awaiting.append(Awaiting(remaining: 0, action: .reconnected))
        try connection.flush()
        settle(&loop)
    }

    private func drain(_ loop: inout Loop, _ connection: RedisConnection) throws(RedisError) {
        while let reply = try connection.bufferedReply() {
            handle(reply, &loop)
        }
    }

    private func handle(_ reply: RedisReply, _ loop: inout Loop) {
        switch reply {
        case .array(let parts):
            switch parts.first?.string {
            case "message" where parts.count == 3:
                handler(.message(channel: parts[1].string ?? "", payload: parts[2].bytes ?? []))
            case "pmessage" where parts.count == 4:
                handler(
                    .patternMessage(
                        pattern: parts[1].string ?? "", channel: parts[2].string ?? "", payload: parts[3].bytes ?? []))
            case "subscribe", "unsubscribe", "psubscribe", "punsubscribe":
                if !loop.awaiting.isEmpty { loop.awaiting[0].remaining -= 1 }
                settle(&loop)
            default:
                logger.debug("redis \(options.name) subscriber ignored an unexpected reply")
            }
        case .error(let message):
            // A rejected subscription command: fail the oldest request still waiting.
            guard !loop.awaiting.isEmpty else { return }
            let head = loop.awaiting.removeFirst()
            if case .user(let completion) = head.action {
                completion(.failure(RedisError(.server, message)))
            }
            settle(&loop)
        default:
            logger.debug("redis \(options.name) subscriber ignored an unexpected reply")
        }
    }

    /// Completes every leading entry whose confirmations have all arrived.
    private func settle(_ loop: inout Loop) {
        while let head = loop.awaiting.first, head.remaining <= 0 {
            loop.awaiting.removeFirst()
            switch head.action {
            case .user(let completion): completion(.success(()))
            case .replay: break
            case .reconnected: handler(.reconnected)
            }
        }
    }

    private func failAwaiting(_ loop: inout Loop, with error: RedisError) {
        for entry in loop.awaiting {
            if case .user(let completion) = entry.action { completion(.failure(error)) }
        }
        loop.awaiting = []
    }

    /// Reconnects with backoff; returns `false` when closed meanwhile.
    private func reconnect(_ connection: RedisConnection, reason: String) -> Bool {
        let outageStart = ContinuousClock.now
        if state.withLock({ $0.closed }) { return false }
        var outage = RedisConnectionOutage(options: options, url: url, logger: logger, reason: reason)
        var backoff = RedisBackoff(options.reconnectBackoff)
        while true {
            do {
                try connection.reconnect()
                break
            } catch {
                // Reported once per outage.
                outage.attemptFailed()
            }
            let wakeAt = ContinuousClock.now + backoff.next()
            while ContinuousClock.now < wakeAt {
                var deadline = wakeAt
                if let limit = options.maxOutageWait { deadline = min(deadline, .now + limit) }
                let (closed, expired) = state.wait(until: deadline, ready: { $0.closed }) { state in
                    (state.closed, expire(&state, outageStart: outageStart))
                }
                for request in expired {
                    request.completion(
                        .failure(RedisError(.connectionLost, "redis \(options.name) at \(url) still unreachable: \(reason)")))
                }
                if closed { return false }
            }
            if state.withLock({ $0.closed }) { return false }
        }
        outage.ended(after: ContinuousClock.now - outageStart)
        return true
    }

    private func expire(_ state: inout State, outageStart: ContinuousClock.Instant) -> [Request] {
        guard let limit = options.maxOutageWait else { return [] }
        let now = ContinuousClock.now
        var expired: [Request] = []
        state.queue.removeAll { request in
            guard now - max(request.enqueued, outageStart) >= limit else { return false }
            expired.append(request)
            return true
        }
        return expired
    }
}
