public import Logging
import Synchronization

/// The stream of Celery events on one Redis database, as an `AsyncStream`: what `celery events`,
/// flower and Celery's `EventReceiver` with the binding key `#` see.
///
/// It PSUBSCRIBEs `/<db>.celeryev/*` (``EventChannel/pattern(db:bindingKey:)``), so it receives
/// worker-* events, clients' `task-sent` and the `task.multi` arrays that real workers batch
/// their task events into (SPEC c, f.1). ``EventCodec`` decodes both single events and arrays;
/// each event's type comes from its own `type` field, never from the channel.
///
/// ```swift
/// let receiver = try await EventReceiver.connect(url: url, logger: logger)
/// for await event in receiver.events {
///     if event.kind == .taskSucceeded { print(event.task?.uuid ?? "?") }
/// }
/// ```
///
/// Malformed messages (anyone can PUBLISH on these channels) are skipped: the first of each
/// kind of ``ProtocolError`` is logged as a warning, later ones at most once a minute with a
/// count. After a Redis outage the subscription is replayed and the stream goes on; events
/// published during the outage are lost (pub/sub keeps no backlog), which is logged.
public final class EventReceiver: Sendable {
    /// The default buffer size of ``events``: at Celery's usual rate of a few events per task,
    /// enough for tens of thousands of tasks while the consumer is busy (e.g. drawing).
    public static let defaultBufferSize = 100_000

    /// The events, in the order Redis delivered them. Finished by ``close()``.
    ///
    /// Buffered with `.bufferingNewest(bufferSize)`: when the consumer falls that far behind,
    /// the *oldest* buffered events are dropped (and a warning is logged), because a monitor
    /// cares more about the current state than about history it can no longer keep up with.
    /// Like any `AsyncStream`, it supports a single consumer.
    public let events: AsyncStream<CeleryEvent>

    /// The database whose events this receiver sees (pub/sub channels carry it as `/<db>.`).
    public let database: Int

    private let continuation: AsyncStream<CeleryEvent>.Continuation
    // Set once in `connect`, right after the subscriber exists.
    private let subscriber = Mutex<RedisSubscriber?>(nil)

    private init(database: Int, bufferSize: Int) {
        self.database = database
        (events, continuation) = AsyncStream.makeStream(of: CeleryEvent.self, bufferingPolicy: .bufferingNewest(bufferSize))
    }

    deinit {
        close()
    }

    /// Connects, subscribes to every event of `url`'s database, and returns once Redis
    /// confirmed the subscription, so no event published afterwards is missed.
    ///
    /// - Parameters:
    ///   - url: The broker; its database number selects the channels.
    ///   - options: Connect timeout, backoff and the log name (`"events"` unless set).
    ///   - bufferSize: How many undelivered events ``events`` keeps; see there.
    ///   - logger: Receives outage lines and the rate-limited warnings about malformed or
    ///     dropped events.
    /// - Throws: ``RedisError`` from the first connect or the PSUBSCRIBE.
    public static func connect(
        url: RedisURL, options: RedisOptions = .init(), bufferSize: Int = defaultBufferSize, logger: Logger
    ) async throws(RedisError) -> EventReceiver {
        let receiver = EventReceiver(database: url.database, bufferSize: max(1, bufferSize))
        var options = options
        if options.name == RedisOptions().name { options.name = "events" }
        let sink = EventSink(continuation: receiver.continuation, logger: logger)
        let subscriber = try await RedisSubscriber.connect(url: url, options: options, logger: logger) { event in
            // Runs on the subscriber's thread; the sink only decodes and yields, so it is quick.
            sink.handle(event)
        }
        receiver.subscriber.withLock { $0 = subscriber }
        do {
            try await subscriber.psubscribe([EventChannel.pattern(db: url.database)])
        } catch {
            receiver.close()
            throw error
        }
        return receiver
    }

    /// Unsubscribes, closes the connection and finishes ``events``. Idempotent.
    public func close() {
        let s = subscriber.withLock { s -> RedisSubscriber? in
            defer { s = nil }
            return s
        }
        s?.close()
        continuation.finish()
    }
}

/// Turns pub/sub messages into stream elements. Holds no reference to the ``EventReceiver``,
/// so the subscriber's handler does not keep the receiver alive.
private final class EventSink: Sendable {
    let continuation: AsyncStream<CeleryEvent>.Continuation
    let logger: Logger
    let problems: RateLimitedLog

    init(continuation: AsyncStream<CeleryEvent>.Continuation, logger: Logger) {
        self.continuation = continuation
        self.logger = logger
        problems = RateLimitedLog(logger: logger)
    }

    func handle(_ event: RedisPubSubEvent) {
        switch event {
        case .patternMessage(_, let channel, let payload):
            let decoded: [CeleryEvent]
            do {
                decoded = try EventCodec.decode(channel: channel, payload: payload)
            } catch {
                problems.log(kind: "malformed.\(error.code)", "skipping a malformed event message: \(error)")
                return
            }
            for e in decoded {
                if case .dropped = continuation.yield(e) {
                    problems.log(kind: "dropped", "the event consumer is behind; dropping the oldest buffered events")
                }
            }
        case .message:
            break
        case .reconnected:
            logger.info("event stream resumed; events published while Redis was unreachable were missed")
        }
    }
}
