/// Writes a ``TaskMessage``'s kombu envelope straight to bytes, for the client's send path.
///
/// ``TaskMessage/encoded()`` builds `JSONObject` trees for the headers, the properties and the
/// body, serializes them, then base64-encodes the body into a growing array: at bulk rates
/// that was most of `sendMany`'s time. This writer produces the *same bytes* (Python's key
/// order and `json.dumps` spacing; a test compares the two on many varied messages) by
/// writing each field in place into two reusable sinks, then copying into one exactly sized
/// array. ``TaskMessage/encoded()`` stays the reference; a message this writer does not cover
/// (an extra header that overrides a standard one, or repeated extra keys, whose placement
/// follows `JSONObject`'s replace-in-place rule) is handed to it.
///
/// Keep one writer per batch: its sinks are reused, so only the result array is allocated
/// per message.
struct TaskMessageWriter: ~Copyable {
    /// The body JSON, before base64.
    private var body = ByteSink(capacity: 256)
    /// Everything after the base64 body: content type and encoding, headers, properties.
    private var tail = ByteSink(capacity: 1024)

    init() {}

    /// The message's envelope, byte for byte what ``TaskMessage/encoded()`` returns.
    static func encode(_ message: TaskMessage) -> [UInt8] {
        var writer = TaskMessageWriter()
        return writer.encode(message)
    }

    /// The message's envelope, byte for byte what ``TaskMessage/encoded()`` returns.
    mutating func encode(_ message: TaskMessage) -> [UInt8] {
        guard Self.isCovered(message) else { return message.encoded() }
        body.count = 0
        tail.count = 0
        writeBody(message)
        writeTail(message)
        let prefix: StaticString = #"{"body": ""#
        let encodedBody = Base64.encodedCount(body.count)
        let total = prefix.utf8CodeUnitCount + encodedBody + tail.count
        return [UInt8](unsafeUninitializedCapacity: total) { out, initialized in
            let base = out.baseAddress!
            base.initialize(from: prefix.utf8Start, count: prefix.utf8CodeUnitCount)
            var offset = prefix.utf8CodeUnitCount
            body.withBytes { Base64.encode($0, to: base + offset) }
            offset += encodedBody
            tail.withBytes { (base + offset).initialize(from: $0.baseAddress!, count: $0.count) }
            initialized = total
        }
    }

    /// Whether the reference's header and property objects are exactly "standard keys in
    /// order, then the extras in order" — true unless an extra key repeats or names a
    /// standard field (then `JSONObject`'s subscript would move it into that field's place).
    static func isCovered(_ message: TaskMessage) -> Bool {
        let headers = message.extraHeaders
        for (n, m) in headers.enumerated() {
            if TaskMessage.knownHeaders.contains(m.key) { return false }
            for earlier in headers.prefix(n) where earlier.key == m.key { return false }
        }
        // Known properties among the extras are skipped by the reference, as they are here.
        let properties = message.extraProperties
        for (n, m) in properties.enumerated() where !TaskMessage.knownProperties.contains(m.key) {
            for earlier in properties.prefix(n) where earlier.key == m.key { return false }
        }
        return true
    }

    // MARK: - Parts

    /// `[args, kwargs, {"callbacks": …, "errbacks": …, "chain": …, "chord": …}]`.
    private mutating func writeBody(_ m: TaskMessage) {
        body.append(UInt8(ascii: "["))
        body.append(UInt8(ascii: "["))
        for (n, arg) in m.args.enumerated() {
            if n > 0 { Self.ascii(", ", &body) }
            JSONWriter.writeValue(arg, compact: false, into: &body)
        }
        Self.ascii("], ", &body)
        JSONWriter.writeValue(.object(m.kwargs), compact: false, into: &body)
        Self.ascii(#", {"callbacks": "#, &body)
        JSONWriter.writeValue(m.callbacks, compact: false, into: &body)
        Self.ascii(#", "errbacks": "#, &body)
        JSONWriter.writeValue(m.errbacks, compact: false, into: &body)
        Self.ascii(#", "chain": "#, &body)
        JSONWriter.writeValue(m.chain, compact: false, into: &body)
        Self.ascii(#", "chord": "#, &body)
        JSONWriter.writeValue(m.chord, compact: false, into: &body)
        Self.ascii("}]", &body)
    }

    /// The envelope after the body, in kombu's key order (see ``TaskMessage/headers`` and
    /// ``TaskMessage/properties`` for the field order this mirrors).
    private mutating func writeTail(_ m: TaskMessage) {
        Self.ascii(#"", "content-encoding": "utf-8", "content-type": "application/json", "headers": {"lang": "#, &tail)
        JSONWriter.writeString(m.lang, into: &tail)
        Self.ascii(#", "task": "#, &tail)
        JSONWriter.writeString(m.name, into: &tail)
        Self.ascii(#", "id": "#, &tail)
        JSONWriter.writeString(m.id, into: &tail)
        Self.ascii(#", "shadow": "#, &tail)
        optionalString(m.shadow)
        Self.ascii(#", "eta": "#, &tail)
        optionalString(m.eta.map(CeleryDate.format))
        Self.ascii(#", "expires": "#, &tail)
        optionalString(m.expires.map(CeleryDate.format))
        Self.ascii(#", "group": "#, &tail)
        optionalString(m.group)
        Self.ascii(#", "group_index": "#, &tail)
        if let index = m.groupIndex { JSONWriter.writeInteger(index, into: &tail) } else { Self.ascii("null", &tail) }
        Self.ascii(#", "retries": "#, &tail)
        JSONWriter.writeInteger(m.retries, into: &tail)
        Self.ascii(#", "timelimit": "#, &tail)
        if m.timeLimit.hard == nil && m.timeLimit.soft == nil {
            Self.ascii("[null, null]", &tail)
        } else {
            JSONWriter.writeValue(m.timeLimit.jsonValue, compact: false, into: &tail)
        }
        Self.ascii(#", "root_id": "#, &tail)
        optionalString(m.rootID)
        Self.ascii(#", "parent_id": "#, &tail)
        optionalString(m.parentID)
        Self.ascii(#", "argsrepr": "#, &tail)
        optionalString(m.argsRepr)
        Self.ascii(#", "kwargsrepr": "#, &tail)
        optionalString(m.kwargsRepr)
        Self.ascii(#", "origin": "#, &tail)
        optionalString(m.origin)
        Self.ascii(#", "ignore_result": "#, &tail)
        switch m.ignoreResult {
        case true?: Self.ascii("true", &tail)
        case false?: Self.ascii("false", &tail)
        case nil: Self.ascii("null", &tail)
        }
        for extra in m.extraHeaders { member(extra) }

        Self.ascii(#"}, "properties": {"correlation_id": "#, &tail)
        JSONWriter.writeString(m.correlationID ?? m.id, into: &tail)
        Self.ascii(#", "reply_to": "#, &tail)
        JSONWriter.writeString(m.replyTo, into: &tail)
        for extra in m.extraProperties where !TaskMessage.knownProperties.contains(extra.key) { member(extra) }
        Self.ascii(#", "delivery_mode": "#, &tail)
        JSONWriter.writeInteger(m.deliveryMode, into: &tail)
        if let expiration = m.expiration {
            Self.ascii(#", "expiration": "#, &tail)
            JSONWriter.writeString(expiration, into: &tail)
        }
        Self.ascii(#", "delivery_info": {"exchange": "#, &tail)
        JSONWriter.writeString(m.exchange, into: &tail)
        Self.ascii(#", "routing_key": "#, &tail)
        JSONWriter.writeString(m.routingKey, into: &tail)
        if m.redelivered { Self.ascii(#", "redelivered": true"#, &tail) }
        Self.ascii(#"}, "priority": "#, &tail)
        JSONWriter.writeInteger(m.priority, into: &tail)
        Self.ascii(#", "body_encoding": "base64", "delivery_tag": "#, &tail)
        JSONWriter.writeString(m.deliveryTag, into: &tail)
        Self.ascii("}}", &tail)
    }

    /// `, "key": value` into the tail.
    private mutating func member(_ m: JSONMember) {
        Self.ascii(", ", &tail)
        JSONWriter.writeString(m.key, into: &tail)
        Self.ascii(": ", &tail)
        JSONWriter.writeValue(m.value, compact: false, into: &tail)
    }

    private mutating func optionalString(_ s: String?) {
        if let s { JSONWriter.writeString(s, into: &tail) } else { Self.ascii("null", &tail) }
    }

    @inline(__always) private static func ascii(_ text: StaticString, _ sink: inout ByteSink) {
        sink.append(UnsafeRawPointer(text.utf8Start), count: text.utf8CodeUnitCount)
    }
}
