internal import Foundation

/// A remote-control command broadcast to workers over the pidbox (`celery inspect`, `control`,
/// mingle `hello`, the events monitor's `heartbeat`).
///
/// Published on ``ControlNames/broadcastChannel(db:namespace:)`` as a kombu envelope with
/// headers `{"clock", "expires"}` and body `{"method", "arguments", "destination", "pattern",
/// "matcher"}`, plus `"ticket"` and `"reply_to"` only when the sender collects replies.
/// Every worker receives every command and decides with ``isAddressed(to:)`` whether to run it.
public struct ControlCommand: Sendable, Hashable {
    /// Where a worker sends its ``ControlReply``.
    public struct ReplyTo: Sendable, Hashable {
        /// The reply exchange, `reply.celery.pidbox`.
        public var exchange: String
        /// The client's oid; the reply list is ``ControlNames/replyQueue(oid:namespace:)``.
        public var routingKey: String

        /// Creates a reply address; the exchange defaults to the `celery` namespace's.
        public init(exchange: String = ControlNames.replyExchange(), routingKey: String) {
            self.exchange = exchange
            self.routingKey = routingKey
        }
    }

    /// The command name, e.g. `ping`, `revoke`, `active`; handlers for unknown names reply
    /// ``ControlReplyBody/unknownCommand(_:)``.
    public var method: String
    /// Keyword arguments for the handler, in order (`{"task_id": …, "terminate": …, "signal": …}`).
    public var arguments: JSONObject
    /// Node names that should run the command; `nil` (or empty) means every worker.
    public var destination: [String]?
    /// A node-name pattern used with ``matcher`` when there is no destination.
    public var pattern: String?
    /// How ``pattern`` matches: `"glob"` (fnmatch) or `"pcre"` (Python `re.match`).
    public var matcher: String?
    /// Correlates replies with this command; present only when a reply is wanted.
    public var ticket: String?
    /// Where replies go; present only when a reply is wanted.
    public var replyTo: ReplyTo?
    /// Header `clock`: the sender's Lamport clock after `forward()`. Receivers `adjust` to it.
    public var clock: Int
    /// Header `expires`: epoch seconds after which the sender stops collecting replies, or 0
    /// for none. Python 5.7 workers do **not** enforce it: they run and answer expired commands.
    public var expires: Double

    /// Whether the sender collects replies (both ``ticket`` and ``replyTo`` are set).
    public var wantsReply: Bool { ticket != nil && replyTo != nil }

    /// Creates a command.
    public init(
        method: String, arguments: JSONObject = [:], destination: [String]? = nil,
        pattern: String? = nil, matcher: String? = nil, ticket: String? = nil, replyTo: ReplyTo? = nil,
        clock: Int, expires: Double = 0
    ) {
        self.method = method
        self.arguments = arguments
        self.destination = destination
        self.pattern = pattern
        self.matcher = matcher
        self.ticket = ticket
        self.replyTo = replyTo
        self.clock = clock
        self.expires = expires
    }

    /// Decodes a message received on the broadcast channel.
    ///
    /// Lenient as kombu: `arguments` may be absent or `null` (read as `{}`), missing headers
    /// read as 0, and a single destination string is taken as a one-element list.
    /// - Parameter payload: The PUBLISHed envelope bytes.
    /// - Throws: ``ProtocolError``: `invalidJSON`, `invalidBase64`, `missingField` (`method`),
    ///   `wrongType` (body not an object, or a field of the wrong type).
    public static func decode(payload: [UInt8]) throws(ProtocolError) -> ControlCommand {
        let envelope = try KombuEnvelope.decode(payload)
        let body = try envelope.bodyJSON()
        guard case .object(let o) = body else { throw .wrongType("body", expected: "object", got: body) }
        let r = FieldReader(o, path: "body")
        var destination: [String]?
        switch o["destination"] {
        case nil, .null?: destination = nil
        case .string(let s)?: destination = [s]
        case .array(let items)?:
            destination = try items.enumerated().map { (i, item) throws(ProtocolError) -> String in
                guard case .string(let s) = item else {
                    throw .wrongType("body.destination[\(i)]", expected: "string", got: item)
                }
                return s
            }
        case let other?: throw .wrongType("body.destination", expected: "list", got: other)
        }
        var replyTo: ReplyTo?
        if let rt = try r.object("reply_to") {
            let rr = FieldReader(rt, path: "body.reply_to")
            replyTo = ReplyTo(
                exchange: try rr.string("exchange") ?? ControlNames.replyExchange(),
                routingKey: try rr.requiredString("routing_key"))
        }
        let h = FieldReader(envelope.headers, path: "headers")
        var expires = 0.0
        if let e = h.value("expires") {
            guard let d = e.doubleValue else { throw .wrongType("headers.expires", expected: "float", got: e) }
            expires = d
        }
        return ControlCommand(
            method: try r.requiredString("method"),
            arguments: try r.object("arguments") ?? [:],
            destination: destination,
            pattern: try r.string("pattern"),
            matcher: try r.string("matcher"),
            ticket: try r.string("ticket"),
            replyTo: replyTo,
            clock: try h.int("clock") ?? 0,
            expires: expires)
    }

    /// The envelope kombu's `Mailbox._publish` writes, byte for byte.
    ///
    /// Body keys `method, arguments, destination, pattern, matcher`, then `ticket` and
    /// `reply_to` only if set; headers `{"clock", "expires"}` (`expires` 0 is written as the
    /// integer `0`, as Python does without a timeout); properties delivery mode 2, exchange
    /// `celery.pidbox`, routing key `""`, priority 0.
    /// - Parameters:
    ///   - deliveryTag: A fresh uuid4 string, injected.
    ///   - namespace: The mailbox namespace, `celery` by default.
    public func encode(deliveryTag: String, namespace: String = ControlNames.defaultNamespace) -> [UInt8] {
        var body = JSONObject()
        body.append("method", .string(method))
        body.append("arguments", .object(arguments))
        body.append("destination", destination.map { .array($0.map(JSONValue.string)) } ?? .null)
        body.append("pattern", pattern.map(JSONValue.string) ?? .null)
        body.append("matcher", matcher.map(JSONValue.string) ?? .null)
        if let ticket { body.append("ticket", .string(ticket)) }
        if let replyTo {
            body.append(
                "reply_to", .object(["exchange": .string(replyTo.exchange), "routing_key": .string(replyTo.routingKey)]))
        }
        var headers = JSONObject()
        headers.append("clock", .int(clock))
        headers.append("expires", expires == 0 ? .int(0) : .double(expires))
        var properties = JSONObject()
        properties.append("delivery_mode", 2)
        properties.append(
            "delivery_info",
            .object(["exchange": .string(ControlNames.broadcastExchange(namespace: namespace)), "routing_key": ""]))
        properties.append("priority", 0)
        properties.append("body_encoding", "base64")
        properties.append("delivery_tag", .string(deliveryTag))
        return KombuEnvelope(body: JSONValue.object(body).serialized(), headers: headers, properties: properties).encoded()
    }

    /// Whether the worker `nodeName` should run this command, as kombu's `Node.handle_message`
    /// decides: a non-empty ``destination`` must contain the name; otherwise, when both
    /// ``pattern`` and ``matcher`` are set, the name must match (`glob`: fnmatch of the whole
    /// name; `pcre`: a regular expression matched at the start, like `re.match`; an unknown
    /// matcher or invalid regex matches nothing, where kombu raises); otherwise every worker runs it.
    public func isAddressed(to nodeName: String) -> Bool {
        if let destination, !destination.isEmpty { return destination.contains(nodeName) }
        guard let pattern, !pattern.isEmpty, let matcher, !matcher.isEmpty else { return true }
        switch matcher {
        case "glob": return Self.fnmatch(Array(nodeName), Array(pattern))
        case "pcre":
            guard let re = try? NSRegularExpression(pattern: pattern) else { return false }
            let range = NSRange(nodeName.startIndex..., in: nodeName)
            return re.firstMatch(in: nodeName, options: .anchored, range: range) != nil
        default: return false
        }
    }

    /// Python's `fnmatch.fnmatchcase`: `*`, `?`, `[seq]`, `[!seq]` with ranges; an unclosed
    /// `[` is a literal. Greedy with backtracking to the last `*`.
    static func fnmatch(_ name: [Character], _ pat: [Character]) -> Bool {
        var n = 0, p = 0
        var starP = -1, starN = 0
        while n < name.count {
            if p < pat.count {
                switch pat[p] {
                case "*":
                    starP = p
                    starN = n
                    p += 1
                    continue
                case "?":
                    n += 1
                    p += 1
                    continue
                case "[":
                    if let (matched, next) = matchClass(pat, at: p, name[n]) {
                        if matched {
                            n += 1
                            p = next
                            continue
                        }
                    } else if name[n] == "[" {
                        n += 1
                        p += 1
                        continue
                    }
                default:
                    if pat[p] == name[n] {
                        n += 1
                        p += 1
                        continue
                    }
                }
            }
            guard starP >= 0 else { return false }
            starN += 1
            n = starN
            p = starP + 1
        }
        while p < pat.count && pat[p] == "*" { p += 1 }
        return p == pat.count
    }

    /// Matches `c` against the class starting at `pat[start] == "["`; `nil` when the class is
    /// not closed (then `[` is literal), else whether it matched and the index after `]`.
    private static func matchClass(_ pat: [Character], at start: Int, _ c: Character) -> (Bool, Int)? {
        var j = start + 1
        var negate = false
        if j < pat.count && pat[j] == "!" {
            negate = true
            j += 1
        }
        let first = j
        if j < pat.count && pat[j] == "]" { j += 1 }
        while j < pat.count && pat[j] != "]" { j += 1 }
        guard j < pat.count else { return nil }
        let items = Array(pat[first..<j])
        var matched = false
        var k = 0
        while k < items.count {
            if k + 2 < items.count && items[k + 1] == "-" {
                if items[k] <= c && c <= items[k + 2] { matched = true }
                k += 3
            } else {
                if items[k] == c { matched = true }
                k += 1
            }
        }
        return (matched != negate, j + 1)
    }
}
