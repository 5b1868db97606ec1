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
///
/// Sync markers (``EventChannel/syncMarker(db:token:)``) are never events: they are skipped
/// without a warning, and the one named in ``finish(atSyncMarker:)`` ends the stream, so a
/// monitor can stop exactly after everything published before a given moment.
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
    private let sink: EventSink
    // Set once in `connect`, right after the subscriber exists.
    private let subscriber = Mutex<RedisSubscriber?>(nil)

    private init(database: Int, bufferSize: Int, logger: Logger) {
        self.database = database
        (events, continuation) = AsyncStream.makeStream(of: CeleryEvent.self, bufferingPolicy: .bufferingNewest(bufferSize))
        sink = EventSink(continuation: continuation, database: database, logger: logger)
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
        let receiver = EventReceiver(database: url.database, bufferSize: max(1, bufferSize), logger: logger)
        var options = options
        if options.name == RedisOptions().name { options.name = "events" }
        let sink = receiver.sink
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

    /// Finishes ``events`` when the sync marker `token` arrives, right after the events Redis
    /// delivered before it: once the consumer's loop over ``events`` ends, it has seen every
    /// event published before the marker's PUBLISH (Redis delivers one connection's pub/sub
    /// messages in publish order).
    ///
    /// Call it, then PUBLISH an empty message on ``EventChannel/syncMarker(db:token:)`` with
    /// this receiver's ``database`` from any connection. Events that arrive after the marker
    /// are not delivered. If the marker never comes (Redis went away), nothing happens: bound
    /// the wait and call ``close()``, which also ends ``events`` after what is buffered.
    ///
    /// - Parameter token: The marker's token, unique to this call (a fresh UUID).
    public func finish(atSyncMarker token: String) {
        sink.awaitMarker(EventChannel.syncMarker(db: database, token: token))
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
    /// What every sync marker channel of this database starts with.
    let syncMarkerPrefix: String
    /// The marker channel that ends the stream, once ``EventReceiver/finish(atSyncMarker:)`` named one.
    let awaitedMarker = Mutex<String?>(nil)

    init(continuation: AsyncStream<CeleryEvent>.Continuation, database: Int, logger: Logger) {
        self.continuation = continuation
        self.logger = logger
        problems = RateLimitedLog(logger: logger)
        syncMarkerPrefix = EventChannel.syncMarkerPrefix(db: database)
    }

    func awaitMarker(_ channel: String) {
        awaitedMarker.withLock { $0 = channel }
    }

    func handle(_ event: RedisPubSubEvent) {
        switch event {
        case .patternMessage(_, let channel, let payload):
            if channel.hasPrefix(syncMarkerPrefix) {
                // A monitor's sync marker, this receiver's or another's: never an event. Every
                // message before it has been yielded, so finishing here keeps all of them.
                if awaitedMarker.withLock({ $0 == channel }) { continuation.finish() }
                return
            }
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
