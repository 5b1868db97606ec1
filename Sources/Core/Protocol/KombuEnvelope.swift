/// The kombu message envelope every Celery broker message travels in.
///
/// On Redis a message is the JSON object
/// `{"body": <base64>, "content-encoding": ..., "content-type": ..., "headers": {...}, "properties": {...}}`.
/// This type holds the *decoded* body bytes, so higher layers (``TaskMessage``, events, control)
/// never see base64, and re-encodes in kombu's key order so our output matches Python's.
public struct KombuEnvelope: Sendable, Hashable {
    /// The body after base64 decoding: for Celery, UTF-8 JSON.
    public var body: [UInt8]
    /// `content-type`, `application/json` for everything Celery sends by default.
    public var contentType: String
    /// `content-encoding`, `utf-8`.
    public var contentEncoding: String
    /// Application headers (for tasks: the protocol v2 headers).
    public var headers: JSONObject
    /// AMQP-style properties: `correlation_id`, `reply_to`, `delivery_info`, `priority`,
    /// `body_encoding`, `delivery_tag`, …
    public var properties: JSONObject

    public init(
        body: [UInt8], contentType: String = "application/json", contentEncoding: String = "utf-8",
        headers: JSONObject = [:], properties: JSONObject = [:]
    ) {
        self.body = body
        self.contentType = contentType
        self.contentEncoding = contentEncoding
        self.headers = headers
        self.properties = properties
    }

    /// Decodes an envelope as found in a Redis list, the `unacked` hash or a pub/sub message.
    ///
    /// A body with `properties.body_encoding == "base64"` is base64-decoded (whitespace is
    /// skipped, padding is required, as with Python's `b64decode`); a body without
    /// `body_encoding` is taken as its UTF-8 text, as kombu does. A missing content type is
    /// treated as `application/json`, the only serializer Celery uses over this codec.
    /// - Parameters:
    ///   - bytes: The envelope JSON.
    ///   - maxSize: Reject larger inputs with ``ProtocolError/Code/tooLarge`` before parsing.
    /// - Throws: ``ProtocolError`` (`invalidJSON`, `wrongType`, `missingField`,
    ///   `invalidBase64`, `unsupportedContentType`, `tooLarge`).
    public static func decode(_ bytes: [UInt8], maxSize: Int? = nil) throws(ProtocolError) -> KombuEnvelope {
        if let maxSize, bytes.count > maxSize {
            throw ProtocolError(.tooLarge, "envelope: \(bytes.count) bytes > limit \(maxSize)")
        }
        return try decode(JSONParser.parseForProtocol(bytes, what: "envelope"))
    }

    /// Decodes an envelope that is already parsed, e.g. the first element of an `unacked` entry.
    public static func decode(_ value: JSONValue) throws(ProtocolError) -> KombuEnvelope {
        guard case .object(let o) = value else {
            throw ProtocolError.wrongType("envelope", expected: "object", got: value)
        }
        let r = FieldReader(o, path: "")
        let headers = try r.object("headers") ?? [:]
        let properties = try r.object("properties") ?? [:]
        guard let bodyValue = o["body"] else { throw .missing("body") }
        guard case .string(let text) = bodyValue else {
            throw ProtocolError.wrongType("body", expected: "string", got: bodyValue)
        }
        let body: [UInt8]
        switch properties["body_encoding"] {
        case .string("base64"):
            guard let decoded = Base64.decode(text.utf8) else {
                throw ProtocolError(.invalidBase64, "body: not valid base64 (\(text.utf8.count) bytes)")
            }
            body = decoded
        case nil, .null:
            body = Array(text.utf8)
        case let other?:
            throw ProtocolError(.unsupportedContentType, "properties.body_encoding: \(other.stringValue ?? other.protocolTypeName)")
        }
        return KombuEnvelope(
            body: body,
            contentType: try r.string("content-type") ?? "application/json",
            contentEncoding: try r.string("content-encoding") ?? "utf-8",
            headers: headers,
            properties: properties)
    }

    /// The envelope JSON as kombu writes it: keys `body, content-encoding, content-type,
    /// headers, properties`, body base64 (standard alphabet, padded, one line), Python
    /// `json.dumps` spacing. `properties.body_encoding` is forced to `"base64"` (in place if
    /// present, appended otherwise) because that is how the body is written.
    public func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(body.count * 4 / 3 + 512)
        out.append(contentsOf: #"{"body": ""#.utf8)
        Base64.encode(body, into: &out)
        out.append(contentsOf: #"", "content-encoding": "#.utf8)
        JSONWriter.write(.string(contentEncoding), into: &out)
        out.append(contentsOf: #", "content-type": "#.utf8)
        JSONWriter.write(.string(contentType), into: &out)
        out.append(contentsOf: #", "headers": "#.utf8)
        JSONWriter.write(.object(headers), into: &out)
        out.append(contentsOf: #", "properties": "#.utf8)
        var props = properties
        if props["body_encoding"] != .string("base64") { props["body_encoding"] = .string("base64") }
        JSONWriter.write(.object(props), into: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// Parses ``body`` as JSON, checking the content type first.
    /// - Parameter validatingUTF8: Reject invalid UTF-8 in the body's strings instead of
    ///   repairing it with U+FFFD: kombu decodes a body strictly as UTF-8, so Celery refuses
    ///   such a task rather than run it with changed arguments.
    /// - Throws: ``ProtocolError/Code/unsupportedContentType`` unless the content type is JSON;
    ///   ``ProtocolError/Code/invalidJSON`` if the body is not JSON (or, validating, not UTF-8).
    public func bodyJSON(validatingUTF8: Bool = false) throws(ProtocolError) -> JSONValue {
        guard contentType == "application/json" || contentType == "application/x-json" || contentType.isEmpty else {
            throw ProtocolError(.unsupportedContentType, "content-type: \(contentType)")
        }
        return try JSONParser.parseForProtocol(body, what: "body", validatingUTF8: validatingUTF8)
    }

    private var deliveryInfo: JSONObject? { properties["delivery_info"]?.objectValue }

    /// `properties.delivery_tag`: the key of this message in `unacked`.
    public var deliveryTag: String? { properties["delivery_tag"]?.stringValue }
    /// `properties.delivery_info.exchange` (`""`, the default exchange, for tasks).
    public var exchange: String? { deliveryInfo?["exchange"]?.stringValue }
    /// `properties.delivery_info.routing_key` (the queue name for tasks).
    public var routingKey: String? { deliveryInfo?["routing_key"]?.stringValue }
    /// `properties.priority`.
    public var priority: Int? { properties["priority"]?.intValue }
    /// Whether kombu marked the message as restored from `unacked`.
    public var redelivered: Bool { deliveryInfo?["redelivered"]?.boolValue ?? false }
}
