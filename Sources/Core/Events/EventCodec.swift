/// Decodes and encodes the kombu messages that carry Celery events over Redis pub/sub.
///
/// A message is a kombu envelope (``KombuEnvelope``) whose base64 body is either one event
/// object (worker-* events, client task-sent) or a JSON **array** of event objects: workers
/// buffer task events and flush them as one `task.multi` message. A monitor that only expects
/// objects sees nothing from real prefork workers, so ``decode(channel:payload:)`` accepts both
/// and always reads each event's type from its own `type` field.
public enum EventCodec {
    /// An encoded event message and where it goes.
    public struct Publication: Sendable, Hashable {
        /// The routing key: `task.multi` for a batch, the dotted type otherwise (`worker.heartbeat`).
        public let routingKey: String
        /// The envelope bytes to PUBLISH.
        public let payload: [UInt8]

        /// The pub/sub channel to PUBLISH on, e.g. `/0.celeryev/task.multi`.
        public func channel(db: Int) -> String { EventChannel.name(db: db, routingKey: routingKey) }
    }

    /// Decodes one pub/sub message of the events exchange.
    ///
    /// - Parameters:
    ///   - channel: The channel it arrived on; used only in error details, never for the type.
    ///   - payload: The PUBLISHed bytes (a kombu envelope).
    /// - Returns: The events in the order sent: one for an object body, any number for an array.
    /// - Throws: ``ProtocolError``: `invalidJSON` (envelope or body not JSON), `invalidBase64`,
    ///   `wrongType` (a body or array item that is not an object), `missingField` (an event
    ///   without `type`, a Celery task event without `uuid`).
    public static func decode(channel: String?, payload: [UInt8]) throws(ProtocolError) -> [CeleryEvent] {
        // Celery's task events, well formed: read straight into typed events. Everything
        // else (worker and custom events, errors, unusual envelopes) takes the general path.
        if let events = EventFastDecoder.decode(payload) { return events }
        return try decodeGeneral(channel: channel, payload: payload)
    }

    /// ``decode(channel:payload:)`` through ``KombuEnvelope`` and ``JSONParser`` trees: the
    /// reference the fast path must agree with, and the path for everything it declines.
    static func decodeGeneral(channel: String?, payload: [UInt8]) throws(ProtocolError) -> [CeleryEvent] {
        let envelope = try KombuEnvelope.decode(payload)
        do throws(ProtocolError) {
            return try decode(body: envelope.bodyJSON())
        } catch {
            guard let channel else { throw error }
            throw ProtocolError(error.code, "\(channel): \(error.details)")
        }
    }

    /// Decodes an already parsed event body: one event object or an array of them.
    ///
    /// - Throws: ``ProtocolError`` as ``decode(channel:payload:)``.
    public static func decode(body: JSONValue) throws(ProtocolError) -> [CeleryEvent] {
        switch body {
        case .object(let fields):
            return [try CeleryEvent(fields: fields)]
        case .array(let items):
            var events: [CeleryEvent] = []
            events.reserveCapacity(items.count)
            for (i, item) in items.enumerated() {
                guard case .object(let fields) = item else {
                    throw .wrongType("body[\(i)]", expected: "event object", got: item)
                }
                do throws(ProtocolError) {
                    events.append(try CeleryEvent(fields: fields))
                } catch {
                    throw ProtocolError(error.code, "body[\(i)]: \(error.details)")
                }
            }
            return events
        default:
            throw .wrongType("body", expected: "event object or list", got: body)
        }
    }

    /// Encodes one event as a single-object message, routed by its type (`worker.heartbeat`,
    /// `task.sent`), as Celery publishes worker-* events and a client's task-sent.
    ///
    /// - Parameters:
    ///   - event: The event; its ``CeleryEvent/fields`` are written verbatim.
    ///   - hostname: The publisher's node name for the `hostname` header.
    ///   - deliveryTag: A fresh uuid4 string, injected.
    public static func encode(_ event: CeleryEvent, hostname: String, deliveryTag: String) -> Publication {
        let routingKey = event.kind.routingKey
        return Publication(
            routingKey: routingKey,
            payload: envelope(body: .object(event.fields), hostname: hostname, routingKey: routingKey, deliveryTag: deliveryTag))
    }

    /// Encodes a batch as one JSON-array message on `<group>.multi`, as a worker flushes its
    /// buffered task events (`task.multi`; Celery flushes at 24 events or on the next loop turn).
    ///
    /// - Parameters:
    ///   - events: Events of one group, in the order they happened (each with its own clock).
    ///     The group is taken from the first event; an empty batch goes to `task.multi`.
    ///   - hostname: The publisher's node name for the `hostname` header.
    ///   - deliveryTag: A fresh uuid4 string, injected.
    public static func encode(_ events: [CeleryEvent], hostname: String, deliveryTag: String) -> Publication {
        let routingKey = (events.first?.kind.group ?? "task") + ".multi"
        return Publication(
            routingKey: routingKey,
            payload: envelope(
                body: .array(events.map { .object($0.fields) }), hostname: hostname, routingKey: routingKey,
                deliveryTag: deliveryTag))
    }

    /// The envelope Celery's `EventDispatcher` publishes: header `hostname`, transient
    /// delivery mode 1, exchange `celeryev`, priority 0.
    /// A `task.multi` publication from a body already serialized as a JSON array of events, for
    /// publishers that write events straight to bytes (the worker's hot path).
    public static func encodeTaskBatch(serializedBody: [UInt8], hostname: String, deliveryTag: String) -> Publication {
        Publication(
            routingKey: "task.multi",
            payload: envelope(serializedBody: serializedBody, hostname: hostname, routingKey: "task.multi", deliveryTag: deliveryTag))
    }

    static func envelope(body: JSONValue, hostname: String, routingKey: String, deliveryTag: String) -> [UInt8] {
        envelope(serializedBody: body.serialized(), hostname: hostname, routingKey: routingKey, deliveryTag: deliveryTag)
    }

    static func envelope(serializedBody: [UInt8], hostname: String, routingKey: String, deliveryTag: String) -> [UInt8] {
        var properties = JSONObject()
        properties.append("delivery_mode", 1)
        properties.append("delivery_info", .object(["exchange": .string(EventChannel.exchange), "routing_key": .string(routingKey)]))
        properties.append("priority", 0)
        properties.append("body_encoding", "base64")
        properties.append("delivery_tag", .string(deliveryTag))
        return KombuEnvelope(body: serializedBody, headers: ["hostname": .string(hostname)], properties: properties).encoded()
    }
}
