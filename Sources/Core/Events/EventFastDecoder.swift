/// The fast path of ``EventCodec/decode(channel:payload:)``: reads a kombu event message
/// straight from its bytes into typed ``CeleryEvent``s, without building ``JSONValue`` trees for
/// the envelope or the events.
///
/// Why: a monitor decodes every event of a cluster, and building the envelope and event
/// objects (a string per key and value, an array per object) was over half of `qmon`'s
/// ingest cost. Here the envelope is only scanned for `body`, `content-type` and
/// `properties.body_encoding`; the base64 body is decoded once; each Celery task event is
/// scanned once, its known keys matched by bytes and only their values decoded. The events
/// keep their JSON text for ``CeleryEvent/fields``.
///
/// It answers only what it is sure of, and is exactly the general path there: scalars are
/// decoded by ``JSONParser`` (or, for plain integers and literals, to the same values), every
/// skipped value is grammar-checked, and anything else (malformed or unusual input, a
/// duplicated key it reads, a worker or custom event, a plain-text body) returns `nil` or
/// goes through the general code for that event, so errors and odd cases behave as before.
enum EventFastDecoder {
    /// The events of one message, or `nil` when the general decoder must decide.
    static func decode(_ payload: [UInt8]) -> [CeleryEvent]? {
        // Token offsets are 32-bit; a body this large is not an event batch worth a fast path.
        guard payload.count < Int(Int32.max) else { return nil }
        guard let body = payload.withUnsafeBytes({ envelopeBody($0) }) else { return nil }
        return body.withUnsafeBytes { events(in: $0, body: body) }
    }

    // MARK: Envelope

    /// The base64-decoded body of a kombu envelope whose content type is JSON.
    private static func envelopeBody(_ bytes: UnsafeRawBufferPointer) -> [UInt8]? {
        var c = JSONCursor(bytes)
        var base64 = false
        guard let body = KombuEnvelopeScan.body(
                &c, requireHeadersAndProperties: false,
                headers: { cursor in
                    cursor.skipWhitespace()
                    return cursor.current == 0x7B && cursor.skipValue()
                },
                properties: { cursor in
                    base64 = bodyEncodingIsBase64(&cursor) == true
                    return base64
                }),
            base64
        else { return nil }
        return Base64.decode(c.bytes(body))
    }

    /// Scans the `properties` object; whether `body_encoding` is exactly `"base64"` (`nil`:
    /// malformed, or absent, or anything the general decoder should judge).
    private static func bodyEncodingIsBase64(_ c: inout JSONCursor) -> Bool? {
        var found: Bool?
        let read = KombuEnvelopeScan.members(&c) { key, cursor in
            guard cursor.matches(key, "body_encoding") else { return cursor.skipValue() }
            guard found == nil else { return false }
            cursor.skipWhitespace()
            guard cursor.current == 0x22, let t = cursor.string() else { return false }
            found = cursor.matches(t, "base64")
            return true
        }
        return read ? found : nil
    }

    // MARK: Body

    /// One event object or an array of them, filling `body`'s events.
    private static func events(in bytes: UnsafeRawBufferPointer, body: [UInt8]) -> [CeleryEvent]? {
        var c = JSONCursor(bytes)
        c.skipWhitespace()
        switch c.current {
        case 0x7B:
            guard let e = event(&c, body: body), c.atEndOfDocument() else { return nil }
            return [e]
        case 0x5B:
            c.i += 1
            c.skipWhitespace()
            var events: [CeleryEvent] = []
            if c.current == 0x5D {
                c.i += 1
            } else {
                // Celery flushes at most 24 events (the buffer limit) per message.
                events.reserveCapacity(24)
                repeat {
                    c.skipWhitespace()
                    guard c.current == 0x7B, let e = event(&c, body: body) else { return nil }
                    events.append(e)
                } while c.expect(0x2C)
                guard c.expect(0x5D) else { return nil }
            }
            guard c.atEndOfDocument() else { return nil }
            return events
        default:
            return nil
        }
    }

    /// One event object at the cursor.
    private static func event(_ c: inout JSONCursor, body: [UInt8]) -> CeleryEvent? {
        let start = c.i
        guard c.expect(0x7B) else { return nil }
        var values = EventValues()
        c.skipWhitespace()
        if c.current != 0x7D {
            repeat {
                guard let keyToken = c.string(), !keyToken.hasEscapes, c.expect(0x3A) else { return nil }
                guard let key = EventKey(c.bytes(keyToken)) else {
                    guard c.skipValue() else { return nil }
                    continue
                }
                // The general parser keeps a repeated key's last value: not worth copying here.
                if values[key].shape != .absent { return nil }
                c.skipWhitespace()
                guard let v = c.current else { return nil }
                let token: EventValues.Token
                switch v {
                case 0x22:
                    guard let t = c.string() else { return nil }
                    token = .init(start: Int32(t.start), end: Int32(t.end), shape: t.hasEscapes ? .escapedString : .string)
                case 0x7B, 0x5B:
                    guard c.skipValue() else { return nil }
                    token = .init(shape: .container)
                default:
                    // Checked when read: every known key is.
                    let start = c.i
                    c.skipScalar()
                    token = .init(start: Int32(start), end: Int32(c.i), shape: .scalar)
                }
                values[key] = token
            } while c.expect(0x2C)
        }
        guard c.expect(0x7D) else { return nil }
        return values.event(json: body[start..<c.i], cursor: c)
    }
}

/// The keys of a Celery task event that the typed view reads.
private enum EventKey: UInt32 {
    case hostname, utcoffset, pid, clock, timestamp, type
    case uuid, name, args, kwargs, rootID, parentID, retries, eta, expires, queue, exchange, routingKey
    case result, runtime, exception, traceback, terminated, signum, expired, requeue

    static let count = 26

    /// The key spelled by `k`, or `nil`; matched by length and first byte, then compared once.
    init?(_ k: UnsafeRawBufferPointer) {
        guard let first = k.first else { return nil }
        let candidate: (EventKey, StaticString)
        switch (k.count, first) {
        case (3, UInt8(ascii: "p")): candidate = (.pid, "pid")
        case (3, UInt8(ascii: "e")): candidate = (.eta, "eta")
        case (4, UInt8(ascii: "t")): candidate = (.type, "type")
        case (4, UInt8(ascii: "u")): candidate = (.uuid, "uuid")
        case (4, UInt8(ascii: "n")): candidate = (.name, "name")
        case (4, UInt8(ascii: "a")): candidate = (.args, "args")
        case (5, UInt8(ascii: "c")): candidate = (.clock, "clock")
        case (5, UInt8(ascii: "q")): candidate = (.queue, "queue")
        case (6, UInt8(ascii: "k")): candidate = (.kwargs, "kwargs")
        case (6, UInt8(ascii: "r")): candidate = (.result, "result")
        case (6, UInt8(ascii: "s")): candidate = (.signum, "signum")
        case (7, UInt8(ascii: "r")):
            switch k[2] {
            case UInt8(ascii: "o"): candidate = (.rootID, "root_id")
            case UInt8(ascii: "t"): candidate = (.retries, "retries")
            case UInt8(ascii: "n"): candidate = (.runtime, "runtime")
            case UInt8(ascii: "q"): candidate = (.requeue, "requeue")
            default: return nil
            }
        case (7, UInt8(ascii: "e")):
            candidate = k[6] == UInt8(ascii: "s") ? (.expires, "expires") : (.expired, "expired")
        case (8, UInt8(ascii: "h")): candidate = (.hostname, "hostname")
        case (8, UInt8(ascii: "e")): candidate = (.exchange, "exchange")
        case (9, UInt8(ascii: "u")): candidate = (.utcoffset, "utcoffset")
        case (9, UInt8(ascii: "t")):
            candidate = k[1] == UInt8(ascii: "i") ? (.timestamp, "timestamp") : (.traceback, "traceback")
        case (9, UInt8(ascii: "p")): candidate = (.parentID, "parent_id")
        case (9, UInt8(ascii: "e")): candidate = (.exception, "exception")
        case (10, UInt8(ascii: "t")): candidate = (.terminated, "terminated")
        case (11, UInt8(ascii: "r")): candidate = (.routingKey, "routing_key")
        default: return nil
        }
        guard memcmpEqual(k.baseAddress!, candidate.1.utf8Start, k.count) else { return nil }
        self = candidate.0
    }
}

/// The known keys' values of one event as scanned: where each value's token is, decoded only
/// when read. An absent key, or an object or array value, reads as `nil`, as in
/// ``JSONObject``'s lenient readers. Plain integers, so one event's scratch space is a
/// fixed block on the stack with nothing to release.
private struct EventValues {
    /// What a token is.
    enum Shape: UInt8 { case absent, string, escapedString, scalar, container }

    struct Token {
        var start: Int32 = 0
        var end: Int32 = 0
        var shape: Shape = .absent
    }

    var tokens = InlineArray<26, Token>(repeating: Token())

    subscript(_ k: EventKey) -> Token {
        get { tokens[Int(k.rawValue)] }
        set { tokens[Int(k.rawValue)] = newValue }
    }

    /// A string value; `nil` if absent or not a string; sets `failed` if the value is malformed.
    @inline(__always)
    func string(_ k: EventKey, _ c: JSONCursor, _ failed: inout Bool) -> String? {
        let t = self[k]
        guard t.shape == .string || t.shape == .escapedString else {
            // Not a string, so nil; a scalar is still checked (`null` is the usual one here).
            if t.shape == .scalar, c.scalarValue(start: Int(t.start), end: Int(t.end)) == nil { failed = true }
            return nil
        }
        let token = JSONCursor.StringToken(start: Int(t.start), end: Int(t.end), hasEscapes: t.shape == .escapedString)
        guard let s = c.text(token) else {
            failed = true
            return nil
        }
        return s
    }

    /// A number or literal; `.null` if absent or not a scalar; sets `failed` if malformed.
    @inline(__always)
    func scalar(_ k: EventKey, _ c: JSONCursor, _ failed: inout Bool) -> JSONValue {
        let t = self[k]
        guard t.shape == .scalar else { return .null }
        guard let v = c.scalarValue(start: Int(t.start), end: Int(t.end)) else {
            failed = true
            return .null
        }
        return v
    }

    /// The typed event, or `nil` to let the general decoder handle it (not a Celery task
    /// event, no string `type` or `uuid`, or a value the parser reads differently).
    func event(json: ArraySlice<UInt8>, cursor c: JSONCursor) -> CeleryEvent? {
        var failed = false
        guard self[.type].shape == .string, let type = string(.type, c, &failed) else { return nil }
        let kind = CeleryEventKind(type: type)
        guard kind.isKnown, kind.isTaskEvent, let uuid = string(.uuid, c, &failed) else { return nil }
        var rootID: String?
        let r = self[.rootID], u = self[.uuid]
        if r.shape == .string, u.shape == .string, r.end - r.start == u.end - u.start,
            memcmpEqual(c.base + Int(r.start), c.base + Int(u.start), Int(r.end - r.start))
        {
            // Celery sends the uuid again as root_id for a workflow's first task: share it.
            rootID = uuid
        } else {
            rootID = string(.rootID, c, &failed)
        }
        var f = failed
        let task = TaskEventFields(
            uuid: uuid, name: string(.name, c, &f), args: string(.args, c, &f), kwargs: string(.kwargs, c, &f),
            rootID: rootID, parentID: string(.parentID, c, &f), retries: scalar(.retries, c, &f).intValue,
            eta: string(.eta, c, &f), expires: string(.expires, c, &f), queue: string(.queue, c, &f),
            exchange: string(.exchange, c, &f), routingKey: string(.routingKey, c, &f),
            result: string(.result, c, &f), runtime: scalar(.runtime, c, &f).doubleValue,
            exception: string(.exception, c, &f), traceback: string(.traceback, c, &f),
            terminated: scalar(.terminated, c, &f).boolValue, signum: scalar(.signum, c, &f).intValue,
            expired: scalar(.expired, c, &f).boolValue, requeue: scalar(.requeue, c, &f).boolValue)
        failed = f
        let hostname = string(.hostname, c, &failed)
        let utcoffset = scalar(.utcoffset, c, &failed).doubleValue, pid = scalar(.pid, c, &failed).intValue
        let clock = scalar(.clock, c, &failed).intValue, timestamp = scalar(.timestamp, c, &failed).doubleValue
        // Every known key was read above, so every scalar token was checked.
        if failed { return nil }
        return CeleryEvent(
            text: json, kind: kind, hostname: hostname, utcoffset: utcoffset, pid: pid, clock: clock,
            timestamp: timestamp, task: task)
    }
}
