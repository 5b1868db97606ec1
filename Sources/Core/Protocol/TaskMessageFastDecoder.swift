import Foundation

/// The fast path of ``TaskMessage/decode(bytes:maxSize:)``: reads a kombu task envelope straight
/// into a ``TaskMessage``, without building the envelope's ``JSONValue`` tree first.
///
/// Why: a worker decodes every message it takes, and the general path (envelope → tree of
/// headers and properties → a lookup per typed field → a copy of the unknown ones) was a
/// fifth of the worker's time per task. Here the envelope is scanned once: known header and
/// property keys are matched by their bytes and only their values decoded; the base64 body is
/// decoded from the input without an intermediate string; only the unknown keys (Celery's
/// `replaced_task_nesting`, `stamps`, custom headers) become strings and values.
///
/// It answers only what it is sure of, and is then exactly the general path: values are
/// decoded by ``JSONCursor`` (which defers to ``JSONParser`` for anything but plain tokens),
/// and anything else — malformed input, a repeated key, a value of an unexpected type, a
/// non-base64 body encoding — returns `nil`, so the general decoder decides and throws its
/// typed error.
enum TaskMessageFastDecoder {
    static func decode(_ bytes: [UInt8]) -> TaskMessage? {
        bytes.withUnsafeBytes { decode(in: $0) }
    }

    private static func decode(in bytes: UnsafeRawBufferPointer) -> TaskMessage? {
        var c = JSONCursor(bytes)
        var headers = Headers()
        var properties = Properties()
        guard let body = KombuEnvelopeScan.body(
            &c, requireHeadersAndProperties: true,
            headers: { headers.read(&$0) }, properties: { properties.read(&$0) })
        else { return nil }

        let bodyBytes: [UInt8]
        if properties.base64Body {
            guard let decoded = Base64.decode(c.bytes(body)) else { return nil }
            bodyBytes = decoded
        } else {
            // The text as the general parser reads it (invalid UTF-8 repaired).
            guard let text = c.text(body) else { return nil }
            bodyBytes = Array(text.utf8)
        }
        guard let name = headers.task, let id = headers.id, let tag = properties.deliveryTag,
            let json = try? JSONParser.parse(bodyBytes, validatingUTF8: true),
            let parts = try? TaskMessage.bodyParts(json)
        else { return nil }
        return TaskMessage(
            name: name, id: id, args: parts.args, kwargs: parts.kwargs, deliveryTag: tag,
            lang: headers.lang ?? "py", shadow: headers.shadow, eta: headers.eta, expires: headers.expires,
            group: headers.group, groupIndex: headers.groupIndex, retries: headers.retries ?? 0,
            timeLimit: headers.timeLimit, rootID: headers.rootID, parentID: headers.parentID,
            argsRepr: headers.argsRepr, kwargsRepr: headers.kwargsRepr, origin: headers.origin,
            ignoreResult: headers.ignoreResult, extraHeaders: headers.extra,
            callbacks: parts.embed["callbacks"] ?? .null, errbacks: parts.embed["errbacks"] ?? .null,
            chain: parts.embed["chain"] ?? .null, chord: parts.embed["chord"] ?? .null,
            correlationID: properties.correlationID, replyTo: properties.replyTo ?? "",
            deliveryMode: properties.deliveryMode ?? 2, exchange: properties.exchange ?? "",
            routingKey: properties.routingKey ?? "celery", priority: properties.priority ?? 0,
            expiration: properties.expiration, redelivered: properties.redelivered ?? false,
            extraProperties: properties.extra)
    }

    // MARK: Headers

    /// The protocol v2 headers as the general path reads them (absent and `null` alike are nil).
    private struct Headers {
        var lang, task, id, shadow, group, rootID, parentID, argsRepr, kwargsRepr, origin: String?
        var eta, expires: Date?
        var groupIndex, retries: Int?
        var timeLimit = TimeLimit()
        var ignoreResult: Bool?
        var extra = JSONObject()

        /// Reads the headers object at the cursor; `false` sends the message to the general path.
        mutating func read(_ cursor: inout JSONCursor) -> Bool {
            var seen: UInt32 = 0
            return KombuEnvelopeScan.members(&cursor) { key, c in
                let bit: UInt32
                // Celery's order, so a matching key is usually found after few comparisons.
                if c.matches(key, "lang") { bit = 1 << 0; guard readString(&c, into: &lang) else { return false } }
                else if c.matches(key, "task") {
                    bit = 1 << 1
                    guard readString(&c, into: &task), task != nil else { return false }
                } else if c.matches(key, "id") {
                    bit = 1 << 2
                    guard readString(&c, into: &id), id != nil else { return false }
                } else if c.matches(key, "shadow") { bit = 1 << 3; guard readString(&c, into: &shadow) else { return false } }
                else if c.matches(key, "eta") { bit = 1 << 4; guard readDate(&c, into: &eta) else { return false } }
                else if c.matches(key, "expires") { bit = 1 << 5; guard readDate(&c, into: &expires) else { return false } }
                else if c.matches(key, "group") { bit = 1 << 6; guard readString(&c, into: &group) else { return false } }
                else if c.matches(key, "group_index") { bit = 1 << 7; guard readInt(&c, into: &groupIndex) else { return false } }
                else if c.matches(key, "retries") { bit = 1 << 8; guard readInt(&c, into: &retries) else { return false } }
                else if c.matches(key, "timelimit") {
                    bit = 1 << 9
                    guard let v = c.value(), let limit = try? TimeLimit(json: v, field: "headers.timelimit") else { return false }
                    timeLimit = limit
                } else if c.matches(key, "root_id") { bit = 1 << 10; guard readString(&c, into: &rootID) else { return false } }
                else if c.matches(key, "parent_id") { bit = 1 << 11; guard readString(&c, into: &parentID) else { return false } }
                else if c.matches(key, "argsrepr") { bit = 1 << 12; guard readString(&c, into: &argsRepr) else { return false } }
                else if c.matches(key, "kwargsrepr") { bit = 1 << 13; guard readString(&c, into: &kwargsRepr) else { return false } }
                else if c.matches(key, "origin") { bit = 1 << 14; guard readString(&c, into: &origin) else { return false } }
                else if c.matches(key, "ignore_result") { bit = 1 << 15; guard readBool(&c, into: &ignoreResult) else { return false } }
                else {
                    bit = 0
                    guard readUnknown(&c, key: key, into: &extra) else { return false }
                }
                if seen & bit != 0 { return false }
                seen |= bit
                return true
            }
        }
    }

    // MARK: Properties

    /// The properties a task message carries, as the general path reads them.
    private struct Properties {
        var correlationID, replyTo, expiration, deliveryTag: String?
        var deliveryMode, priority: Int?
        var exchange, routingKey: String?
        var redelivered: Bool?
        var base64Body = false
        var extra = JSONObject()

        mutating func read(_ cursor: inout JSONCursor) -> Bool {
            var seen: UInt32 = 0
            return KombuEnvelopeScan.members(&cursor) { key, c in
                let bit: UInt32
                if c.matches(key, "correlation_id") { bit = 1 << 0; guard readString(&c, into: &correlationID) else { return false } }
                else if c.matches(key, "reply_to") { bit = 1 << 1; guard readString(&c, into: &replyTo) else { return false } }
                else if c.matches(key, "delivery_mode") { bit = 1 << 2; guard readInt(&c, into: &deliveryMode) else { return false } }
                else if c.matches(key, "expiration") { bit = 1 << 3; guard readString(&c, into: &expiration) else { return false } }
                else if c.matches(key, "delivery_info") {
                    bit = 1 << 4
                    guard let v = c.value() else { return false }
                    switch v {
                    case .null: break
                    case .object(let o):
                        // Small and rare in its details: the general path's reader, on its own tree.
                        let info = FieldReader(o, path: "properties.delivery_info")
                        do {
                            exchange = try info.string("exchange")
                            routingKey = try info.string("routing_key")
                            redelivered = try info.bool("redelivered")
                        } catch {
                            return false
                        }
                    default: return false
                    }
                } else if c.matches(key, "priority") { bit = 1 << 5; guard readInt(&c, into: &priority) else { return false } }
                else if c.matches(key, "body_encoding") {
                    bit = 1 << 6
                    c.skipWhitespace()
                    if c.current == 0x22 {
                        // Only base64 is read here; other encodings get the general path's error.
                        guard let t = c.string(), c.matches(t, "base64") else { return false }
                        base64Body = true
                    } else {
                        guard c.scalar() == .null else { return false }
                    }
                } else if c.matches(key, "delivery_tag") {
                    bit = 1 << 7
                    guard readString(&c, into: &deliveryTag) else { return false }
                } else {
                    bit = 0
                    guard readUnknown(&c, key: key, into: &extra) else { return false }
                }
                if seen & bit != 0 { return false }
                seen |= bit
                return true
            }
        }
    }

    // MARK: Values

    /// A string or `null` (nil); `false` for any other type.
    private static func readString(_ c: inout JSONCursor, into field: inout String?) -> Bool {
        c.skipWhitespace()
        if c.current == 0x22 {
            guard let t = c.string(), let s = c.text(t) else { return false }
            field = s
            return true
        }
        field = nil
        return c.scalar() == .null
    }

    private static func readDate(_ c: inout JSONCursor, into field: inout Date?) -> Bool {
        var text: String?
        guard readString(&c, into: &text) else { return false }
        guard let text else {
            field = nil
            return true
        }
        guard let date = CeleryDate.parse(text) else { return false }
        field = date
        return true
    }

    private static func readInt(_ c: inout JSONCursor, into field: inout Int?) -> Bool {
        switch c.value() {
        case .int(let i)?: field = i
        case .null?: field = nil
        default: return false
        }
        return true
    }

    private static func readBool(_ c: inout JSONCursor, into field: inout Bool?) -> Bool {
        switch c.value() {
        case .bool(let b)?: field = b
        case .null?: field = nil
        default: return false
        }
        return true
    }

    /// An unknown key keeps its value, in document order; a repeated one goes to the general
    /// path, whose parser keeps the first position and the last value.
    private static func readUnknown(_ c: inout JSONCursor, key: JSONCursor.StringToken, into extra: inout JSONObject) -> Bool {
        guard let name = c.text(key), let value = c.value(), extra[name] == nil else { return false }
        extra.append(name, value)
        return true
    }
}
