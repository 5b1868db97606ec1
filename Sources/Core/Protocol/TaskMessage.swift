public import Foundation

/// A Celery task message, protocol v2, with every field a worker or client needs typed.
///
/// Decoding is as lenient as Celery's own (compact JSON, missing optional headers, an empty
/// embed `{}`) but a present field of the wrong type is a ``ProtocolError``, never a crash.
/// Encoding reproduces Python's header and property key order, so a decoded Python message
/// re-encodes byte for byte (see ``encoded()``). Unknown headers and properties are kept
/// in ``extraHeaders``/``extraProperties`` and written back where kombu puts them.
public struct TaskMessage: Sendable, Hashable {
    // MARK: headers

    /// `lang`, always `"py"` from Celery.
    public var lang: String
    /// Registered task name (header `task`; its presence marks protocol v2).
    public var name: String
    /// Task id.
    public var id: String
    /// Display name for events, if different from ``name``.
    public var shadow: String?
    /// Earliest run time.
    public var eta: Date?
    /// After this time the worker revokes the task instead of running it.
    public var expires: Date?
    /// Group id for group/chord members.
    public var group: String?
    /// Position in the group.
    public var groupIndex: Int?
    /// Retries so far (0 for a first delivery).
    public var retries: Int
    /// `timelimit` `[hard, soft]`.
    public var timeLimit: TimeLimit
    /// Workflow root id (the task's own id for a top-level task).
    public var rootID: String?
    /// Id of the task that sent this one (chains, retries), or `nil`.
    public var parentID: String?
    /// `argsrepr`: saferepr of args, display only.
    public var argsRepr: String?
    /// `kwargsrepr`: saferepr of kwargs, display only.
    public var kwargsRepr: String?
    /// Sender's node name, `gen<pid>@host` for clients.
    public var origin: String?
    /// `ignore_result`; `nil` (JSON `null`) when sent by name with `send_task`.
    public var ignoreResult: Bool?
    /// All other headers, flat and in order: `replaced_task_nesting`, `stamped_headers`,
    /// `stamps`, custom `apply_async(headers=...)` keys, and `redelivered` after a restore.
    public var extraHeaders: JSONObject

    // MARK: body `[args, kwargs, embed]`

    /// Positional arguments.
    public var args: [JSONValue]
    /// Keyword arguments, in order.
    public var kwargs: JSONObject
    /// `link` signatures to run after success (list) or `null`.
    public var callbacks: JSONValue
    /// `link_error` signatures or `null`.
    public var errbacks: JSONValue
    /// Remaining chain steps in *reverse* order (next step is the last element) or `null`.
    public var chain: JSONValue
    /// Chord callback signature or `null`.
    public var chord: JSONValue

    // MARK: properties

    /// `correlation_id`: the task id in everything Celery sends.
    public var correlationID: String?
    /// `reply_to`: the client's result consumer id, or `""`.
    public var replyTo: String
    /// `delivery_mode`, 2 (persistent).
    public var deliveryMode: Int
    /// `delivery_info.exchange`: `""` (the default exchange) for tasks.
    public var exchange: String
    /// `delivery_info.routing_key`: the queue name for tasks.
    public var routingKey: String
    /// `priority` 0…9; see ``QueueKeys/priorityStep(_:)``.
    public var priority: Int
    /// `delivery_tag`, a uuid4; the message's key in `unacked`. Mandatory for Python workers.
    public var deliveryTag: String
    /// `expiration` in milliseconds as a string, present only when ``expires`` was given.
    /// Informational: the Redis transport ignores it.
    public var expiration: String?
    /// `delivery_info.redelivered`: kombu restored the message from `unacked`.
    public var redelivered: Bool
    /// Other properties (e.g. `origin` on worker-published retries), written after `reply_to`.
    public var extraProperties: JSONObject

    public init(
        name: String, id: String, args: [JSONValue] = [], kwargs: JSONObject = [:], deliveryTag: String,
        lang: String = "py", shadow: String? = nil, eta: Date? = nil, expires: Date? = nil,
        group: String? = nil, groupIndex: Int? = nil, retries: Int = 0, timeLimit: TimeLimit = TimeLimit(),
        rootID: String? = nil, parentID: String? = nil, argsRepr: String? = nil, kwargsRepr: String? = nil,
        origin: String? = nil, ignoreResult: Bool? = false, extraHeaders: JSONObject = [:],
        callbacks: JSONValue = .null, errbacks: JSONValue = .null, chain: JSONValue = .null, chord: JSONValue = .null,
        correlationID: String? = nil, replyTo: String = "", deliveryMode: Int = 2, exchange: String = "",
        routingKey: String = "celery", priority: Int = 0, expiration: String? = nil, redelivered: Bool = false,
        extraProperties: JSONObject = [:]
    ) {
        self.lang = lang
        self.name = name
        self.id = id
        self.shadow = shadow
        self.eta = eta
        self.expires = expires
        self.group = group
        self.groupIndex = groupIndex
        self.retries = retries
        self.timeLimit = timeLimit
        self.rootID = rootID
        self.parentID = parentID
        self.argsRepr = argsRepr
        self.kwargsRepr = kwargsRepr
        self.origin = origin
        self.ignoreResult = ignoreResult
        self.extraHeaders = extraHeaders
        self.args = args
        self.kwargs = kwargs
        self.callbacks = callbacks
        self.errbacks = errbacks
        self.chain = chain
        self.chord = chord
        self.correlationID = correlationID
        self.replyTo = replyTo
        self.deliveryMode = deliveryMode
        self.exchange = exchange
        self.routingKey = routingKey
        self.priority = priority
        self.deliveryTag = deliveryTag
        self.expiration = expiration
        self.redelivered = redelivered
        self.extraProperties = extraProperties
    }

    /// The name events show: ``shadow`` if set, else ``name``.
    public var displayName: String { shadow ?? name }

    /// The Redis list this message belongs in: its queue (the routing key on the default
    /// exchange) at its priority step.
    public var listKey: String { QueueKeys.list(queue: routingKey, priority: priority) }

    /// Marks the message as restored from `unacked`, as kombu does before its RPUSH:
    /// header `redelivered: true` and `delivery_info.redelivered: true`; the tag is kept.
    public mutating func markRedelivered() {
        redelivered = true
        extraHeaders["redelivered"] = .bool(true)
    }
}

// MARK: - Decoding

extension TaskMessage {
    /// Header keys with typed fields; everything else goes to ``extraHeaders``.
    static let knownHeaders: Set<String> = [
        "lang", "task", "id", "shadow", "eta", "expires", "group", "group_index", "retries", "timelimit",
        "root_id", "parent_id", "argsrepr", "kwargsrepr", "origin", "ignore_result",
    ]
    /// Property keys with typed fields; everything else goes to ``extraProperties``.
    static let knownProperties: Set<String> = [
        "correlation_id", "reply_to", "delivery_mode", "expiration", "delivery_info", "priority",
        "body_encoding", "delivery_tag",
    ]

    /// Decodes a task message from envelope bytes.
    ///
    /// Tries ``TaskMessageFastDecoder`` first, which reads the envelope in one pass and gives
    /// the same message; anything it is unsure of goes through the general path below.
    /// - Throws: ``ProtocolError``; see ``decode(_:)``.
    public static func decode(bytes: [UInt8], maxSize: Int? = nil) throws(ProtocolError) -> TaskMessage {
        if maxSize.map({ bytes.count <= $0 }) ?? true, let message = TaskMessageFastDecoder.decode(bytes) {
            return message
        }
        return try decode(KombuEnvelope.decode(bytes, maxSize: maxSize))
    }

    /// The body `[args, kwargs, embed]` as Celery sends it; kwargs and embed may be `null`,
    /// embed may be missing.
    static func bodyParts(_ body: JSONValue) throws(ProtocolError) -> (args: [JSONValue], kwargs: JSONObject, embed: JSONObject) {
        guard case .array(let parts) = body else {
            throw ProtocolError.wrongType("body", expected: "list [args, kwargs, embed]", got: body)
        }
        guard parts.count >= 2 else {
            throw ProtocolError(.missingField, "body: expected [args, kwargs, embed], got \(parts.count) elements")
        }
        guard case .array(let args) = parts[0] else {
            throw ProtocolError.wrongType("body[0] (args)", expected: "list", got: parts[0])
        }
        let kwargs: JSONObject
        switch parts[1] {
        case .object(let o): kwargs = o
        case .null: kwargs = [:]
        default: throw ProtocolError.wrongType("body[1] (kwargs)", expected: "object", got: parts[1])
        }
        var embed: JSONObject = [:]
        if parts.count > 2 {
            switch parts[2] {
            case .object(let o): embed = o
            case .null: break
            default: throw ProtocolError.wrongType("body[2] (embed)", expected: "object", got: parts[2])
            }
        }
        return (args, kwargs, embed)
    }

    /// Decodes a protocol v2 task message from its envelope.
    /// - Throws: ``ProtocolError``: `unsupportedProtocol` without a `task` header (v1),
    ///   `unsupportedContentType` for non-JSON bodies, `missingField` without `id` or
    ///   `delivery_tag`, `wrongType` for mistyped fields, `invalidJSON` for a bad body
    ///   (including invalid UTF-8 in its strings: `invalid UTF-8 in string`).
    public static func decode(_ envelope: KombuEnvelope) throws(ProtocolError) -> TaskMessage {
        let h = FieldReader(envelope.headers, path: "headers")
        guard envelope.headers["task"] != nil else {
            throw ProtocolError(.unsupportedProtocol, "headers.task missing (task protocol v1 is not supported)")
        }
        let name = try h.requiredString("task")
        let id = try h.requiredString("id")

        // Invalid UTF-8 in the arguments is refused, as Celery refuses it (kombu decodes the
        // body strictly); the envelope's own strings are repaired, as kombu's `bytes_to_str` does.
        let (args, kwargs, embed) = try bodyParts(envelope.bodyJSON(validatingUTF8: true))

        let p = FieldReader(envelope.properties, path: "properties")
        let info = FieldReader(try p.object("delivery_info") ?? [:], path: "properties.delivery_info")
        guard let tag = try p.string("delivery_tag") else { throw .missing("properties.delivery_tag") }

        var extraHeaders = JSONObject()
        for m in envelope.headers where !knownHeaders.contains(m.key) { extraHeaders.append(m.key, m.value) }
        var extraProperties = JSONObject()
        for m in envelope.properties where !knownProperties.contains(m.key) { extraProperties.append(m.key, m.value) }

        return TaskMessage(
            name: name, id: id, args: args, kwargs: kwargs, deliveryTag: tag,
            lang: try h.string("lang") ?? "py",
            shadow: try h.string("shadow"),
            eta: try h.date("eta"),
            expires: try h.date("expires"),
            group: try h.string("group"),
            groupIndex: try h.int("group_index"),
            retries: try h.int("retries") ?? 0,
            timeLimit: try TimeLimit(json: envelope.headers["timelimit"], field: "headers.timelimit"),
            rootID: try h.string("root_id"),
            parentID: try h.string("parent_id"),
            argsRepr: try h.string("argsrepr"),
            kwargsRepr: try h.string("kwargsrepr"),
            origin: try h.string("origin"),
            ignoreResult: try h.bool("ignore_result"),
            extraHeaders: extraHeaders,
            callbacks: embed["callbacks"] ?? .null,
            errbacks: embed["errbacks"] ?? .null,
            chain: embed["chain"] ?? .null,
            chord: embed["chord"] ?? .null,
            correlationID: try p.string("correlation_id"),
            replyTo: try p.string("reply_to") ?? "",
            deliveryMode: try p.int("delivery_mode") ?? 2,
            exchange: try info.string("exchange") ?? "",
            routingKey: try info.string("routing_key") ?? "celery",
            priority: try p.int("priority") ?? 0,
            expiration: try p.string("expiration"),
            redelivered: try info.bool("redelivered") ?? false,
            extraProperties: extraProperties)
    }
}

// MARK: - Encoding

extension TaskMessage {
    /// The headers in Celery's order (`lang, task, id, shadow, eta, expires, group,
    /// group_index, retries, timelimit, root_id, parent_id, argsrepr, kwargsrepr, origin,
    /// ignore_result`) followed by ``extraHeaders``.
    public var headers: JSONObject {
        var h = JSONObject()
        h.reserveCapacity(16 + extraHeaders.count)
        h.append("lang", .string(lang))
        h.append("task", .string(name))
        h.append("id", .string(id))
        h.append("shadow", Self.opt(shadow))
        h.append("eta", eta.map { .string(CeleryDate.format($0)) } ?? .null)
        h.append("expires", expires.map { .string(CeleryDate.format($0)) } ?? .null)
        h.append("group", Self.opt(group))
        h.append("group_index", groupIndex.map { .int($0) } ?? .null)
        h.append("retries", .int(retries))
        h.append("timelimit", timeLimit.jsonValue)
        h.append("root_id", Self.opt(rootID))
        h.append("parent_id", Self.opt(parentID))
        h.append("argsrepr", Self.opt(argsRepr))
        h.append("kwargsrepr", Self.opt(kwargsRepr))
        h.append("origin", Self.opt(origin))
        h.append("ignore_result", ignoreResult.map { .bool($0) } ?? .null)
        for m in extraHeaders { h[m.key] = m.value }
        return h
    }

    /// The properties in kombu's order: `correlation_id, reply_to`, ``extraProperties``,
    /// `delivery_mode`, `expiration` (only if set), `delivery_info`, `priority`,
    /// `body_encoding`, `delivery_tag`.
    public var properties: JSONObject {
        var p = JSONObject()
        p.reserveCapacity(9 + extraProperties.count)
        p.append("correlation_id", .string(correlationID ?? id))
        p.append("reply_to", .string(replyTo))
        for m in extraProperties where !Self.knownProperties.contains(m.key) { p[m.key] = m.value }
        p.append("delivery_mode", .int(deliveryMode))
        if let expiration { p.append("expiration", .string(expiration)) }
        var info: JSONObject = ["exchange": .string(exchange), "routing_key": .string(routingKey)]
        if redelivered { info.append("redelivered", .bool(true)) }
        p.append("delivery_info", .object(info))
        p.append("priority", .int(priority))
        p.append("body_encoding", "base64")
        p.append("delivery_tag", .string(deliveryTag))
        return p
    }

    /// The body `[args, kwargs, {"callbacks", "errbacks", "chain", "chord"}]` as JSON bytes.
    public var bodyBytes: [UInt8] {
        let embed: JSONObject = ["callbacks": callbacks, "errbacks": errbacks, "chain": chain, "chord": chord]
        return JSONValue.array([.array(args), .object(kwargs), .object(embed)]).serialized()
    }

    /// The kombu envelope for this message.
    public func envelope() -> KombuEnvelope {
        KombuEnvelope(body: bodyBytes, headers: headers, properties: properties)
    }

    /// The bytes to `LPUSH` to ``listKey``: identical to what Python would send.
    public func encoded() -> [UInt8] { envelope().encoded() }

    private static func opt(_ s: String?) -> JSONValue { s.map { .string($0) } ?? .null }
}

// MARK: - Building

extension TaskMessage {
    /// Builds the message `apply_async` would send, with clock and ids injected.
    ///
    /// - `countdown` becomes `eta = now + countdown`; `expiresIn` becomes `expires = now + expiresIn`;
    ///   `expiration` is the milliseconds until expiry (`"0"` if already past), as kombu computes it.
    /// - `argsrepr`/`kwargsrepr` are Celery's saferepr (``PythonRepr``).
    /// - `root_id` is the task's own id unless ``TaskSendOptions/rootID`` is given.
    /// - Headers end with Celery's `replaced_task_nesting: 0, stamped_headers: null, stamps: {}`,
    ///   then the custom ``TaskSendOptions/headers``.
    /// - Parameters:
    ///   - name: Registered task name.
    ///   - args: Positional arguments.
    ///   - kwargs: Keyword arguments.
    ///   - options: Routing, timing and workflow options.
    ///   - origin: This process's node name, `gen<pid>@<host>` for a client.
    ///   - now: The current time (injected for tests).
    ///   - newID: Makes uuid4 strings: called for the task id (unless given) and the delivery tag.
    public static func make(
        name: String, args: [JSONValue] = [], kwargs: JSONObject = [:], options: TaskSendOptions = TaskSendOptions(),
        origin: String, now: Date, newID: () -> String
    ) -> TaskMessage {
        let id = options.taskID ?? newID()
        var eta = options.eta
        if eta == nil, let c = options.countdown, c != 0 { eta = now.addingTimeInterval(c) }
        var expires = options.expires
        if expires == nil, let e = options.expiresIn { expires = now.addingTimeInterval(e) }
        var expiration: String?
        if let expires {
            let seconds = max(0, options.expires == nil ? (options.expiresIn ?? 0) : expires.timeIntervalSince(now))
            // Clamped below Int.max: `expires_in=1e300` is legal in Python, whose ints do not overflow.
            expiration = String(Int(min(seconds * 1000, 9.0e18)))
        }
        var extra: JSONObject = ["replaced_task_nesting": 0, "stamped_headers": .null, "stamps": .object([:])]
        for m in options.headers { extra[m.key] = m.value }
        return TaskMessage(
            name: name, id: id, args: args, kwargs: kwargs, deliveryTag: newID(),
            shadow: options.shadow, eta: eta, expires: expires, group: options.group,
            groupIndex: options.groupIndex, retries: options.retries,
            timeLimit: TimeLimit(hard: options.timeLimit, soft: options.softTimeLimit),
            rootID: options.rootID ?? id, parentID: options.parentID,
            argsRepr: options.byName ? PythonRepr.argsListRepr(args) : PythonRepr.argsRepr(args),
            kwargsRepr: PythonRepr.kwargsRepr(kwargs),
            origin: origin, ignoreResult: options.byName ? nil : options.ignoreResult,
            extraHeaders: extra,
            callbacks: options.callbacks, errbacks: options.errbacks, chain: options.chain, chord: options.chord,
            correlationID: id, replyTo: options.replyTo, deliveryMode: 2, exchange: "",
            routingKey: options.queue ?? "celery", priority: options.priority ?? 0, expiration: expiration)
    }
}
