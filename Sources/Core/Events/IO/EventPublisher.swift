public import Logging
import Foundation
import Synchronization

/// Publishes Celery events the way Celery's `EventDispatcher` does on Redis: PUBLISH of a kombu
/// envelope on `/<db>.celeryev/<routing key>`, with a fresh uuid4 delivery tag per message.
///
/// Worker-* events and a client's `task-sent` go out one per message
/// (``publish(_:)``); task events from a worker go out as one JSON array on `task.multi`
/// (``publishTaskEvents(_:)``), which is what real Celery workers send and what every monitor
/// must accept.
///
/// The publisher owns the sender's Lamport clock: build each event with ``nextClock()`` so that
/// clocks increase in the order events are created, as kombu's dispatcher does.
///
/// Events are fire-and-forget, as in Celery: a publish that fails (Redis unreachable) drops the
/// event and logs one warning per outage, plus one info line once publishing works again.
/// Publishers made with ``connect(url:sender:options:logger:)`` wait at most
/// ``RedisOptions/maxOutageWait`` (1 s unless set) for a reconnect before dropping, so callers
/// are never held up for long by an outage.
public final class EventPublisher: Sendable {
    /// Who publishes: the `hostname`, `utcoffset` and `pid` Celery prepends to every event, and
    /// the `hostname` header of every message.
    public let sender: EventSender

    private let client: RedisClient
    private let ownsClient: Bool
    private let database: Int
    private let logger: Logger
    private let clock = Mutex(LamportClock())
    /// Whether the last publish failed, so an outage is logged once, not per event.
    private let failing = Mutex(false)
    /// The level of the "dropping events" line: debug when a shared ``RedisOutageLog`` already
    /// reports the outage itself.
    private let dropLevel: Logger.Level

    /// Creates a publisher over an existing client (e.g. the broker's), which it does not close.
    ///
    /// - Parameters:
    ///   - client: Publishes on the database of its ``RedisClient/url``.
    ///   - sender: The node publishing (``EventSender``).
    ///   - logger: Receives the outage lines.
    public convenience init(client: RedisClient, sender: EventSender, logger: Logger) {
        self.init(client: client, ownsClient: false, sender: sender, logger: logger, dropLevel: .warning)
    }

    private init(client: RedisClient, ownsClient: Bool, sender: EventSender, logger: Logger, dropLevel: Logger.Level) {
        self.client = client
        self.ownsClient = ownsClient
        self.dropLevel = dropLevel
        self.database = client.url.database
        self.sender = sender
        self.logger = logger
    }

    /// Connects a publisher with its own connection.
    ///
    /// - Parameters:
    ///   - url: The broker; its database number is part of every channel name.
    ///   - sender: The node publishing (``EventSender``).
    ///   - options: Connection options; the log name defaults to `"events"` and
    ///     ``RedisOptions/maxOutageWait`` to 1 s (how long a publish waits during an outage
    ///     before the event is dropped).
    ///   - logger: Receives the outage lines.
    /// - Throws: ``RedisError`` from the first connect.
    public static func connect(
        url: RedisURL, sender: EventSender, options: RedisOptions = .init(), logger: Logger
    ) async throws(RedisError) -> EventPublisher {
        var options = options
        if options.name == RedisOptions().name { options.name = "events" }
        if options.maxOutageWait == nil { options.maxOutageWait = .seconds(1) }
        let client = try await RedisClient.connect(url: url, options: options, logger: logger)
        return EventPublisher(client: client, ownsClient: true, sender: sender, logger: logger,
                              dropLevel: options.outageLog == nil ? .warning : .debug)
    }

    /// Ticks the publisher's clock and returns the value to put in the next event's `clock`.
    public func nextClock() -> Int {
        clock.withLock { $0.forward() }
    }

    /// Merges a clock value seen from another node (kombu's `adjust`), so later events order
    /// after it.
    ///
    /// - Returns: The new clock value.
    @discardableResult
    public func adjustClock(_ other: Int) -> Int {
        clock.withLock { $0.adjust(other) }
    }

    /// Publishes one event as a single-object message routed by its type (`worker.heartbeat`,
    /// `task.sent`). Failures are logged (once per outage) and dropped.
    public func publish(_ event: CeleryEvent) async {
        let publication = EventCodec.encode(event, hostname: sender.hostname, deliveryTag: Self.newDeliveryTag())
        await send(publication, count: 1)
    }

    /// Publishes task events as one JSON array on `task.multi`, as a Celery worker flushes its
    /// buffer. An empty batch publishes nothing. Failures are logged (once per outage) and dropped.
    /// Publishes a `task.multi` batch whose body (a JSON array of `count` events) is already
    /// serialized; see ``EventCodec/encodeTaskBatch(serializedBody:hostname:deliveryTag:)``.
    public func publishTaskEvents(serializedBody: [UInt8], count: Int) async {
        guard count > 0 else { return }
        let publication = EventCodec.encodeTaskBatch(serializedBody: serializedBody, hostname: sender.hostname, deliveryTag: Self.newDeliveryTag())
        await send(publication, count: count)
    }

    public func publishTaskEvents(_ events: [CeleryEvent]) async {
        guard !events.isEmpty else { return }
        let publication = EventCodec.encode(events, hostname: sender.hostname, deliveryTag: Self.newDeliveryTag())
        await send(publication, count: events.count)
    }

    /// Closes the connection if this publisher opened it (``connect(url:sender:options:logger:)``).
    public func close() {
        if ownsClient { client.close() }
    }

    private func send(_ publication: EventCodec.Publication, count: Int) async {
        do {
            _ = try await client.send(RedisCommand("PUBLISH", publication.channel(db: database), publication.payload))
            let recovered = failing.withLock { f -> Bool in
                defer { f = false }
                return f
            }
            if recovered { logger.info("publishing events again") }
        } catch where error.code == .closed {
            logger.debug("event publisher is closed; dropped \(count) event(s)")
        } catch {
            let first = failing.withLock { f -> Bool in
                defer { f = true }
                return !f
            }
            if first {
                logger.log(
                    level: dropLevel, "dropping events while Redis is unreachable (\(count) on \(publication.routingKey) now): \(error)")
            }
        }
    }

    private static func newDeliveryTag() -> String { UUID().uuidString.lowercased() }
}
