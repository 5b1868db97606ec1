/// One worker's answer to a ``ControlCommand`` that asked for a reply.
///
/// The worker LPUSHes it to the client's reply list (``ControlNames/replyQueue(oid:namespace:)``)
/// as a kombu envelope: body `{"<node name>": <handler result>}`, headers `{"ticket", "clock"}`,
/// properties delivery mode 1, exchange `reply.celery.pidbox`, routing key the client's oid.
/// Clients keep only replies whose ticket matches the command's.
public struct ControlReply: Sendable, Hashable {
    /// The replying worker's node name, the single key of the body.
    public var nodeName: String
    /// The handler's result: `{"ok": "pong"}`, a list of request dicts, `{"error": "…"}`, …
    /// (see ``ControlReplyBody``).
    public var result: JSONValue
    /// The command's ticket (header `ticket`).
    public var ticket: String?
    /// Header `clock`: the replying worker's mailbox clock after `forward()`.
    public var clock: Int?
    /// `delivery_info.routing_key`: the client's oid.
    public var replyRoutingKey: String?

    /// Creates a reply.
    public init(nodeName: String, result: JSONValue, ticket: String?, clock: Int?, replyRoutingKey: String?) {
        self.nodeName = nodeName
        self.result = result
        self.ticket = ticket
        self.clock = clock
        self.replyRoutingKey = replyRoutingKey
    }

    /// The envelope kombu's `Mailbox._publish_reply` writes, byte for byte.
    ///
    /// - Parameters:
    ///   - nodeName: The replying worker.
    ///   - result: The handler result.
    ///   - ticket: The command's ``ControlCommand/ticket``.
    ///   - clock: The worker's clock after `forward()`.
    ///   - replyRoutingKey: The command's ``ControlCommand/ReplyTo/routingKey``.
    ///   - deliveryTag: A fresh uuid4 string, injected.
    ///   - exchange: The command's ``ControlCommand/ReplyTo/exchange``, `reply.celery.pidbox` by default.
    public static func encode(
        nodeName: String, result: JSONValue, ticket: String, clock: Int, replyRoutingKey: String, deliveryTag: String,
        exchange: String = ControlNames.replyExchange()
    ) -> [UInt8] {
        envelope(
            nodeName: nodeName, result: result, ticket: .string(ticket), clock: clock, replyRoutingKey: replyRoutingKey,
            deliveryTag: deliveryTag, exchange: exchange)
    }

    /// This reply's envelope; a missing ticket, clock or routing key is written as `null`, 0
    /// and `""` (Celery always has all three).
    public func encode(deliveryTag: String, exchange: String = ControlNames.replyExchange()) -> [UInt8] {
        Self.envelope(
            nodeName: nodeName, result: result, ticket: ticket.map(JSONValue.string) ?? .null, clock: clock ?? 0,
            replyRoutingKey: replyRoutingKey ?? "", deliveryTag: deliveryTag, exchange: exchange)
    }

    private static func envelope(
        nodeName: String, result: JSONValue, ticket: JSONValue, clock: Int, replyRoutingKey: String, deliveryTag: String,
        exchange: String
    ) -> [UInt8] {
        var body = JSONObject()
        body.append(nodeName, result)
        var headers = JSONObject()
        headers.append("ticket", ticket)
        headers.append("clock", .int(clock))
        var properties = JSONObject()
        properties.append("delivery_mode", 1)
        properties.append("delivery_info", .object(["exchange": .string(exchange), "routing_key": .string(replyRoutingKey)]))
        properties.append("priority", 0)
        properties.append("body_encoding", "base64")
        properties.append("delivery_tag", .string(deliveryTag))
        return KombuEnvelope(body: JSONValue.object(body).serialized(), headers: headers, properties: properties).encoded()
    }

    /// Decodes a reply popped from a reply list.
    ///
    /// - Parameter payload: The envelope bytes.
    /// - Returns: The reply; with more than one body member (never sent by Celery) the first is used.
    /// - Throws: ``ProtocolError``: `invalidJSON`, `invalidBase64`, `wrongType` (body not an
    ///   object, or `ticket`/`clock` headers of the wrong type), `missingField` (empty body).
    public static func decode(_ payload: [UInt8]) throws(ProtocolError) -> ControlReply {
        let envelope = try KombuEnvelope.decode(payload)
        let body = try envelope.bodyJSON()
        guard case .object(let o) = body else { throw .wrongType("body", expected: "object", got: body) }
        guard let first = o.first else { throw .missing("body: {<node name>: <result>}") }
        let h = FieldReader(envelope.headers, path: "headers")
        return ControlReply(
            nodeName: first.key, result: first.value, ticket: try h.string("ticket"), clock: try h.int("clock"),
            replyRoutingKey: envelope.routingKey)
    }
}
