/// The value kombu stores in the `unacked` hash for an in-flight message:
/// the JSON array `[<envelope object>, <exchange>, <routing_key>]`.
///
/// Any kombu consumer (even a Python client running `inspect()`) may restore entries older
/// than the visibility timeout, so the shape must be exactly this. The envelope is embedded
/// as an object, not as a string: we splice the raw envelope bytes in rather than
/// re-serializing them, which is both exact and cheap.
public enum UnackedEntry {
    /// `[` + envelope + `, "exchange", "routing_key"]`, with the strings JSON-escaped as Python does.
    /// - Parameter envelopeBytes: The envelope JSON exactly as popped from the queue.
    public static func encode(envelopeBytes: [UInt8], exchange: String, routingKey: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(envelopeBytes.count + exchange.utf8.count + routingKey.utf8.count + 16)
        out.append(UInt8(ascii: "["))
        out.append(contentsOf: envelopeBytes)
        out.append(contentsOf: ", ".utf8)
        JSONWriter.write(.string(exchange), into: &out)
        out.append(contentsOf: ", ".utf8)
        JSONWriter.write(.string(routingKey), into: &out)
        out.append(UInt8(ascii: "]"))
        return out
    }

    /// Splits an entry; the envelope comes back re-serialized in Python style, which is
    /// byte-identical to what kombu (or ``encode(envelopeBytes:exchange:routingKey:)``) stored
    /// for envelopes Python or this codec wrote.
    /// - Throws: ``ProtocolError`` if the value is not `[object, string, string]`.
    public static func decode(_ bytes: [UInt8]) throws(ProtocolError) -> (envelope: [UInt8], exchange: String, routingKey: String) {
        let value = try JSONParser.parseForProtocol(bytes, what: "unacked entry")
        guard case .array(let a) = value, a.count == 3 else {
            throw ProtocolError(.wrongType, "unacked entry: expected [envelope, exchange, routing_key]")
        }
        guard case .object = a[0] else { throw ProtocolError.wrongType("unacked entry[0]", expected: "object", got: a[0]) }
        guard case .string(let exchange) = a[1] else {
            throw ProtocolError.wrongType("unacked entry[1]", expected: "string", got: a[1])
        }
        guard case .string(let routingKey) = a[2] else {
            throw ProtocolError.wrongType("unacked entry[2]", expected: "string", got: a[2])
        }
        return (a[0].serialized(), exchange, routingKey)
    }
}
