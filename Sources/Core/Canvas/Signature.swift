/// A Celery signature: a task call (name, arguments, options) that can be applied later, and the
/// element of every workflow on the wire (`link`, `link_error`, the `chain` embed, the `chord`
/// body, a group's members).
///
/// On the wire it is a dict with the keys `task, args, kwargs, options, subtask_type, immutable`
/// in that order (Celery's `Signature.__init__`); unknown keys are kept and written after them, so
/// a signature passed along by a worker reaches the next one unchanged. `subtask_type` names the
/// workflow a signature stands for (``Kind``): `chain`, `group`, `chord`, or `null` for one task
/// (`xmap`, `xstarmap` and `chunks` are tasks too: `celery.map`, `celery.starmap`, `celery.chunks`).
public struct Signature: Sendable, Hashable {
    /// The task name (`celery.chain`, `celery.group`, `celery.chord` for workflows).
    public var task: String
    public var args: [JSONValue]
    public var kwargs: JSONObject
    /// `apply_async` options: `task_id`, `group_id`, `link`, `chain`, `queue`, `priority`…
    public var options: JSONObject
    /// `chain`, `group`, `chord`, `xmap`, `xstarmap`, `chunks`, or `nil` for a task.
    public var subtaskType: String?
    /// `si()`: the previous step's result is not prepended to its arguments.
    public var immutable: Bool
    /// Keys other than Celery's six, kept in order.
    public var extra: JSONObject

    public init(task: String, args: [JSONValue] = [], kwargs: JSONObject = [:], options: JSONObject = [:],
                subtaskType: String? = nil, immutable: Bool = false, extra: JSONObject = [:]) {
        self.task = task
        self.args = args
        self.kwargs = kwargs
        self.options = options
        self.subtaskType = subtaskType
        self.immutable = immutable
        self.extra = extra
    }

    /// Option keys an applying call cannot change once the signature has them (Celery's
    /// `_IMMUTABLE_OPTIONS`): a member keeps the group it was frozen into.
    static let immutableOptions: Set<String> = ["group_id", "stamped_headers"]

    // MARK: Wire form

    /// Reads a signature dict as Celery writes it; missing `args`/`kwargs`/`options` are empty, as
    /// `Signature.from_dict` makes them.
    /// - Throws: ``ProtocolError`` when it is not a dict with a string `task`, or a field has the
    ///   wrong type.
    public init(json: JSONValue) throws(ProtocolError) {
        guard case .object(let o) = json else { throw ProtocolError.wrongType("signature", expected: "object", got: json) }
        let r = FieldReader(o, path: "signature")
        task = try r.requiredString("task")
        switch o["args"] ?? .null {
        case .array(let a): args = a
        case .null: args = []
        case let other: throw ProtocolError.wrongType("signature.args", expected: "list", got: other)
        }
        kwargs = try r.object("kwargs") ?? [:]
        options = try r.object("options") ?? [:]
        subtaskType = try r.string("subtask_type")
        immutable = try r.bool("immutable") ?? false
        extra = JSONObject(o.members.filter { !Self.wireKeys.contains($0.key) })
    }

    static let wireKeys: Set<String> = ["task", "args", "kwargs", "options", "subtask_type", "immutable"]

    /// The dict Celery writes, keys in its order.
    public var jsonValue: JSONValue {
        var o: JSONObject = [
            "task": .string(task), "args": .array(args), "kwargs": .object(kwargs), "options": .object(options),
            "subtask_type": subtaskType.map { .string($0) } ?? .null, "immutable": .bool(immutable),
        ]
        for m in extra { o.append(m.key, m.value) }
        return .object(o)
    }

    /// A list of signatures as the embed carries them (`callbacks`, `errbacks`, `chain`): `null`
    /// is none; a single dict is one (Celery's `maybe_list`).
    public static func list(_ json: JSONValue) throws(ProtocolError) -> [Signature] {
        switch json {
        case .null: return []
        case .array(let items):
            var sigs: [Signature] = []
            sigs.reserveCapacity(items.count)
            for item in items { sigs.append(try Signature(json: item)) }
            return sigs
        case .object: return [try Signature(json: json)]
        default: throw ProtocolError.wrongType("signature list", expected: "list", got: json)
        }
    }

    // MARK: Options

    public var taskID: String? { options["task_id"]?.stringValue }
    public var groupID: String? { options["group_id"]?.stringValue }
    public var rootID: String? { options["root_id"]?.stringValue }

    /// Sets an option (`Signature.set`).
    public mutating func set(_ key: String, _ value: JSONValue) { options[key] = value }

    /// Appends `signature` to the list option `key` (`link`, `link_error`), as Celery's
    /// `append_to_list_option` does (a single dict becomes a list first).
    public mutating func append(_ signature: Signature, to key: String) {
        var items: [JSONValue]
        switch options[key] {
        case .array(let a)?: items = a
        case .object(let o)?: items = [.object(o)]
        default: items = []
        }
        if !items.contains(signature.jsonValue) { items.append(signature.jsonValue) }
        options[key] = .array(items)
    }

    /// The call's arguments and options merged into the signature's, as Celery's `_merge`: the
    /// call's args go *before* the signature's, its kwargs and options win, except options in
    /// ``immutableOptions`` the signature already has; an immutable signature keeps its own
    /// arguments.
    public func merged(args extraArgs: [JSONValue], kwargs extraKwargs: JSONObject, options extraOptions: JSONObject)
        -> (args: [JSONValue], kwargs: JSONObject, options: JSONObject)
    {
        var newOptions = options
        for m in extraOptions where !(Self.immutableOptions.contains(m.key) && options[m.key] != nil) {
            newOptions[m.key] = m.value
        }
        if immutable { return (args, kwargs, newOptions) }
        var newKwargs = kwargs
        for m in extraKwargs { newKwargs[m.key] = m.value }
        return (extraArgs.isEmpty ? args : extraArgs + args, newKwargs, newOptions)
    }

    // MARK: Kind

    /// What a signature stands for, read from `subtask_type` and its kwargs as Celery's
    /// `Signature.from_dict` dispatches.
    public indirect enum Kind: Sendable, Hashable {
        case task
        /// `chain(a, b, c)`: steps in call order.
        case chain([Signature])
        /// `group(a, b)`.
        case group([Signature])
        /// `chord(header, body)`; `headerOptions` are the header group's own options (its
        /// `task_id` becomes the chord's group id).
        case chord(header: [Signature], headerOptions: JSONObject, body: Signature)
    }

    /// The workflow this signature stands for.
    /// - Throws: ``ProtocolError`` when a workflow's `kwargs` do not hold its parts.
    public func kind() throws(ProtocolError) -> Kind {
        switch subtaskType {
        case "chain":
            return .chain(try Signature.list(kwargs["tasks"] ?? .array([])))
        case "group":
            return .group(try Signature.list(kwargs["tasks"] ?? .array([])))
        case "chord":
            let header = kwargs["header"] ?? .array([])
            guard let bodyJSON = kwargs["body"], !bodyJSON.isNull else { throw ProtocolError.missing("signature.kwargs.body") }
            let body = try Signature(json: bodyJSON)
            // The header is a list of signatures or a group signature (`_maybe_group`).
            if case .object = header {
                let group = try Signature(json: header)
                guard case .group(let members) = try group.kind() else {
                    return .chord(header: [group], headerOptions: [:], body: body)
                }
                return .chord(header: members, headerOptions: group.options, body: body)
            }
            return .chord(header: try Signature.list(header), headerOptions: [:], body: body)
        default:
            return .task
        }
    }

    /// A group signature of `members` (`celery.group`).
    public static func group(_ members: [Signature], options: JSONObject = [:]) -> Signature {
        Signature(task: "celery.group", kwargs: ["tasks": .array(members.map(\.jsonValue))], options: options, subtaskType: "group")
    }

    /// A chain signature of `steps` (`celery.chain`).
    public static func chain(_ steps: [Signature], options: JSONObject = [:]) -> Signature {
        Signature(task: "celery.chain", kwargs: ["tasks": .array(steps.map(\.jsonValue))], options: options, subtaskType: "chain")
    }

    /// A chord signature (`celery.chord`): `header` runs as a group, `body` gets their results.
    public static func chord(_ header: [Signature], body: Signature, options: JSONObject = [:]) -> Signature {
        Signature(task: "celery.chord",
                  kwargs: ["kwargs": .object([:]), "header": .array(header.map(\.jsonValue)), "body": body.jsonValue],
                  options: options, subtaskType: "chord")
    }

    /// How many header parts this signature contributes to a chord it is a member of (Celery's
    /// `chord._descend`): a task 1, a group the sum of its members, a chain its last non-empty
    /// step, a chord its body.
    public func chordSize() -> Int {
        switch (try? kind()) ?? .task {
        case .task: return 1
        case .group(let members): return members.reduce(0) { $0 + $1.chordSize() }
        case .chain(let steps):
            for step in steps.reversed() {
                let size = step.chordSize()
                if size > 0 { return size }
            }
            return 0
        case .chord(_, _, let body): return body.chordSize()
        }
    }
}
