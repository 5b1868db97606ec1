public import Foundation

/// What applying a workflow writes, in order: the task messages to publish, and the chord sizes
/// to set just before the last member of a chord's header goes out (as Celery's
/// `group._apply_tasks` does, so the header cannot complete before its size is known).
public struct CanvasPlan: Sendable, Hashable {
    public enum Step: Sendable, Hashable {
        case publish(TaskMessage)
        /// `DEL <gkey>.c` then `SET <gkey>.s <size> EX <chord expiry>`.
        case setChordSize(groupID: String, size: Int)
    }

    public var steps: [Step] = []

    public init(steps: [Step] = []) { self.steps = steps }

    /// The messages, in publishing order.
    public var messages: [TaskMessage] {
        steps.compactMap { if case .publish(let m) = $0 { m } else { nil } }
    }
}

/// On whose behalf a workflow is applied, and the injected clock and ids.
public struct CanvasContext: Sendable {
    /// The running task (its id is the `parent_id` of what it sends), or `nil` for a client.
    public var parentID: String?
    /// The running task's workflow root (its `root_id`, else its id); `nil` for a client.
    public var rootID: String?
    /// `reply_to` written into frozen signatures (Celery's `app.thread_oid`).
    public var replyTo: String
    /// `origin` of the messages (`gen<pid>@host`).
    public var origin: String
    /// The queue for a task whose options name none (`task_default_queue`).
    public var defaultQueue: String
    public var now: Date
    public var newID: @Sendable () -> String
    /// Whether this process has the task registered: Celery sends a task it does not know with
    /// `send_task`, whose `ignore_result` header is `null`.
    public var isRegistered: @Sendable (String) -> Bool
    /// The signatures came off the wire (a worker applying a message's workflow): their `args`
    /// are lists, where a Python client's own signatures hold tuples. Only `argsrepr` shows it.
    public var signaturesFromWire: Bool

    public init(parentID: String? = nil, rootID: String? = nil, replyTo: String, origin: String, defaultQueue: String = "celery",
                now: Date, newID: @escaping @Sendable () -> String, isRegistered: @escaping @Sendable (String) -> Bool = { _ in false },
                signaturesFromWire: Bool = false) {
        self.signaturesFromWire = signaturesFromWire
        self.parentID = parentID
        self.rootID = rootID
        self.replyTo = replyTo
        self.origin = origin
        self.defaultQueue = defaultQueue
        self.now = now
        self.newID = newID
        self.isRegistered = isRegistered
    }
}

/// Turns "apply this signature" into the messages Celery would send, as a pure function: the
/// worker's next chain step, its link callbacks and old-style errbacks, a chord's body, and a
/// Swift client's workflows all go through here.
///
/// It mirrors Celery 5.7's `Signature.apply_async` (`_merge`, `freeze`), `group.apply_async`
/// (`_freeze_gid`, `_prepared`, `_apply_tasks`), `chain.run` (`prepare_steps`) and `chord.run`.
/// Not covered: a chord header holding nested groups (Celery saves its GroupResult first), and
/// `task_routes`: a task goes to its signature's `queue` option, else the default queue.
public struct CanvasPlanner {
    public let context: CanvasContext
    public private(set) var plan = CanvasPlan()

    public init(context: CanvasContext) { self.context = context }

    /// Applies `signature` with `args` prepended and `options` merged, as `sig.apply_async(args,
    /// kwargs, **options)` does; returns the result it makes (a group's, or a chain's last task's).
    /// - Throws: ``ProtocolError`` when a workflow signature is malformed.
    @discardableResult
    public mutating func apply(_ signature: Signature, args: [JSONValue] = [], kwargs: JSONObject = [:],
                               options: JSONObject = [:]) throws(ProtocolError) -> ResultTuple {
        switch try signature.kind() {
        case .task:
            let (a, k, o) = signature.merged(args: args, kwargs: kwargs, options: options)
            var message = makeMessage(signature.task, args: a, kwargs: k, options: o)
            // Python's saferepr shows a tuple when args were prepended (`tuple(args) + tuple(sig.args)`)
            // and the signature's own args otherwise: a list when it came off the wire.
            if context.signaturesFromWire, args.isEmpty || signature.immutable { message.argsRepr = PythonRepr.argsListRepr(a) }
            plan.steps.append(.publish(message))
            return .task(id: message.id, parent: nil)
        case .group(let members):
            return try applyGroup(signature, members: members, args: args, kwargs: kwargs, options: options)
        case .chain(let steps):
            return try applyChain(signature, steps: steps, args: args, kwargs: kwargs, options: options)
        case .chord(let header, let headerOptions, let body):
            return try applyChord(signature, header: header, headerOptions: headerOptions, body: body, args: args, kwargs: kwargs, options: options)
        }
    }

    // MARK: Freezing

    /// `freeze()`: gives the signature (and its parts) ids and the group/chord it belongs to,
    /// without sending anything; returns the frozen signature and its result.
    public func freeze(_ signature: Signature, id: String? = nil, groupID: String? = nil, chord: Signature? = nil,
                rootID: String? = nil, parentID: String? = nil, groupIndex: Int? = nil) throws(ProtocolError) -> (Signature, ResultTuple) {
        var sig = signature
        switch try signature.kind() {
        case .task:
            let taskID = sig.options["task_id"]?.stringValue ?? id ?? context.newID()
            if sig.options["task_id"] == nil { sig.options["task_id"] = .string(taskID) }
            if sig.options["reply_to"] == nil { sig.options["reply_to"] = .string(context.replyTo) }
            if let groupID, sig.options["group_id"] == nil { sig.options["group_id"] = .string(groupID) }
            if let chord { sig.options["chord"] = chord.jsonValue }
            if let groupIndex { sig.options["group_index"] = .int(groupIndex) }
            if let rootID { sig.options["root_id"] = .string(rootID) }
            if let parentID { sig.options["parent_id"] = .string(parentID) }
            return (sig, .task(id: taskID, parent: nil))
        case .group(let members):
            // `_freeze_group_tasks`: the group's id is its task_id (or a new one); the chord it
            // heads is kept in its options, so applying it gives every member the chord (a
            // chain member's last step too) and sets the chord's size before the last one.
            let gid = sig.options["task_id"]?.stringValue ?? id ?? context.newID()
            sig.options["task_id"] = .string(gid)
            if let groupID { sig.options["group_id"] = .string(groupID) }
            if let chord { sig.options["chord"] = chord.jsonValue }
            if let groupIndex { sig.options["group_index"] = .int(groupIndex) }
            if sig.options["root_id"] == nil { sig.options["root_id"] = rootID.map { .string($0) } ?? .null }
            if sig.options["parent_id"] == nil { sig.options["parent_id"] = parentID.map { .string($0) } ?? .null }
            var frozen: [Signature] = []
            var results: [ResultTuple] = []
            for (index, member) in members.enumerated() {
                let (f, r) = try freeze(member, groupID: gid, chord: chord, rootID: rootID, parentID: parentID, groupIndex: index)
                frozen.append(f)
                results.append(r)
            }
            sig.kwargs["tasks"] = .array(frozen.map(\.jsonValue))
            return (sig, .group(id: gid, parent: nil, members: results))
        case .chain(let steps):
            let (frozen, results) = try prepareSteps(steps, args: [], kwargs: [:], rootID: rootID, parentID: parentID, linkError: [],
                                                     lastTaskID: id, groupID: groupID, chordBody: chord, groupIndex: groupIndex)
            sig.kwargs["tasks"] = .array(frozen.reversed().map(\.jsonValue))
            guard let last = results.first else { return (sig, .task(id: id ?? context.newID(), parent: nil)) }
            return (sig, last)
        case .chord(let header, let headerOptions, let body):
            let headerGroup = Signature.group(header, options: headerOptions)
            let (frozenHeader, headerResult) = try freeze(headerGroup, chord: body, rootID: rootID, parentID: parentID)
            let (frozenBody, bodyResult) = try freeze(body, id: id, groupID: groupID, chord: chord, rootID: rootID, groupIndex: groupIndex)
            sig.kwargs["header"] = frozenHeader.jsonValue
            sig.kwargs["body"] = frozenBody.jsonValue
            return (sig, Self.withRootParent(bodyResult, headerResult))
        }
    }

    /// `result` with `parent` as the parent of its first ancestor that has none.
    static func withRootParent(_ result: ResultTuple, _ parent: ResultTuple) -> ResultTuple {
        switch result {
        case .task(let id, let p): .task(id: id, parent: p.map { withRootParent($0, parent) } ?? parent)
        case .group(let id, let p, let members): .group(id: id, parent: p.map { withRootParent($0, parent) } ?? parent, members: members)
        }
    }

    // MARK: group

    /// `group.apply_async`: the group id is the options' `task_id` (or new); each member is frozen
    /// into it with its index and applied with the call's args; the chord size, when the group is
    /// a chord's header, is set just before the last member goes out.
    private mutating func applyGroup(_ signature: Signature, members: [Signature], args: [JSONValue], kwargs: JSONObject,
                                     options: JSONObject) throws(ProtocolError) -> ResultTuple {
        var opts = signature.options
        for m in options where !(Signature.immutableOptions.contains(m.key) && signature.options[m.key] != nil) { opts[m.key] = m.value }
        let gid = opts["task_id"]?.stringValue ?? context.newID()
        opts["task_id"] = nil
        opts["group_id"] = .string(gid)
        let rootID = opts["root_id"]?.stringValue
        let chordOption = opts["chord"]
        opts["chord"] = nil

        var prepared: [(Signature, ResultTuple)] = []
        try unroll(members, into: &prepared, groupID: gid, rootID: rootID)
        guard !prepared.isEmpty else { return .group(id: gid, parent: nil, members: []) }
        var chordSize = 0
        var results: [ResultTuple] = []
        for (index, (member, result)) in prepared.enumerated() {
            let chordObject = chordOption.flatMap { $0.isNull ? nil : $0 } ?? member.options["chord"]
            chordSize += member.chordSize()
            if chordObject != nil, index == prepared.count - 1 {
                plan.steps.append(.setChordSize(groupID: gid, size: chordSize))
            }
            var memberOptions = opts
            if let chordObject { memberOptions["chord"] = chordObject }
            try apply(member, args: args, kwargs: kwargs, options: memberOptions)
            results.append(result)
        }
        return .group(id: gid, parent: nil, members: results)
    }

    /// `group._prepared`: nested groups are unrolled into this one, empty chains dropped, each
    /// member frozen with the group id, root and its index.
    private func unroll(_ members: [Signature], into prepared: inout [(Signature, ResultTuple)], groupID: String, rootID: String?) throws(ProtocolError) {
        for (index, member) in members.enumerated() {
            switch try member.kind() {
            case .group(let inner):
                try unroll(inner, into: &prepared, groupID: groupID, rootID: rootID)
            case .chain(let steps) where steps.isEmpty:
                continue
            default:
                prepared.append(try freeze(member, groupID: groupID, rootID: rootID, groupIndex: index))
            }
        }
    }

    // MARK: chain

    /// `chain.run`: the steps are frozen last to first, the first is sent with the rest as its
    /// `chain` embed (next step last); returns the last step's result.
    private mutating func applyChain(_ signature: Signature, steps: [Signature], args: [JSONValue], kwargs: JSONObject,
                                     options: JSONObject) throws(ProtocolError) -> ResultTuple {
        var o = signature.options
        for m in options { o[m.key] = m.value }
        let args = signature.immutable || args.isEmpty ? signature.args : args + signature.args
        let groupID = o.take("group_id")?.stringValue
        let chord = try o.take("chord").flatMap { value throws(ProtocolError) in value.isNull ? nil : try Signature(json: value) }
        let taskID = o.take("task_id")?.stringValue
        let links = try Signature.list(o.take("link") ?? .null)
        let linkErrors = try Signature.list(o.take("link_error") ?? .null)
        let rootID = o.take("root_id")?.stringValue
        let parentID = o.take("parent_id")?.stringValue
        let groupIndex = o.take("group_index")?.intValue

        var (tasks, results) = try prepareSteps(steps, args: args, kwargs: kwargs, rootID: rootID, parentID: parentID, linkError: linkErrors,
                                                lastTaskID: taskID, groupID: groupID, chordBody: chord, groupIndex: groupIndex)
        guard !tasks.isEmpty else { return .task(id: taskID ?? context.newID(), parent: nil) }
        for link in links { tasks[0].append(link, to: "link") }
        let first = tasks.removeLast()
        // `_prepare_chain_from_options`: an outer chain still to run follows this one's steps.
        let outer = (o["chain"]?.arrayValue) ?? []
        o["chain"] = .array(outer + tasks.map(\.jsonValue))
        let firstResult = try apply(first, options: o)
        return tasks.isEmpty ? firstResult : results[0]
    }

    /// `chain.prepare_steps`: nested chains spliced, a group followed by a step becomes a chord,
    /// every step frozen (the last one with the chain's id, group and chord), `link_error` on
    /// every step. Returns the steps and results *last step first*, as Celery does.
    private func prepareSteps(_ chainSteps: [Signature], args: [JSONValue], kwargs: JSONObject, rootID: String?, parentID: String?,
                              linkError: [Signature], lastTaskID: String?, groupID: String?, chordBody: Signature?,
                              groupIndex: Int?) throws(ProtocolError) -> ([Signature], [ResultTuple]) {
        var steps = chainSteps
        // Leading nested chains are spliced in place.
        while let head = steps.first, case .chain(let inner) = try head.kind() {
            steps.removeFirst()
            steps.insert(contentsOf: inner, at: 0)
        }
        var tasks: [Signature] = []
        var results: [ResultTuple] = []
        var isLast = true
        while var task = steps.popLast() {
            let isFirst = steps.isEmpty
            var kind = try task.kind()
            if case .group(let members) = kind, members.count == 1 {
                task = members[0]  // `maybe_unroll_group`
                kind = try task.kind()
            }
            if case .group(let members) = kind, members.isEmpty, !steps.isEmpty || !tasks.isEmpty { continue }
            if isFirst, !task.immutable {
                let merged = task.merged(args: args, kwargs: kwargs, options: [:])
                task.args = merged.args
                task.kwargs = merged.kwargs
            }
            if case .chain(let inner) = kind {
                steps.append(contentsOf: inner)
                continue
            }
            if case .group(let members) = kind, let previous = tasks.last {
                // `group | sig` inside a chain is `chord(group, sig)`, the body keeping its id.
                tasks.removeLast()
                results.removeLast()
                var chordSig = Signature.chord(members, body: previous, options: task.options)
                if let rootID { chordSig.options["root_id"] = .string(rootID) }
                task = chordSig
            }
            let frozen: (Signature, ResultTuple)
            if isLast {
                frozen = try freeze(task, id: lastTaskID, groupID: groupID, chord: chordBody, rootID: rootID, groupIndex: groupIndex)
            } else {
                frozen = try freeze(task, rootID: rootID)
            }
            task = frozen.0
            isLast = false
            for errback in linkError {
                task.append(errback, to: "link_error")
                if case .chord(_, _, var body) = try task.kind() {
                    body.append(errback, to: "link_error")
                    task.kwargs["body"] = body.jsonValue
                }
            }
            tasks.append(task)
            results.append(frozen.1)
        }
        // Each step's result has the one before it (next in this list) as its parent, set on
        // its first ancestor without one (a chord body's parent is its header already).
        var linked = results
        if linked.count > 1 {
            for i in stride(from: linked.count - 2, through: 0, by: -1) {
                linked[i] = Self.withRootParent(linked[i], linked[i + 1])
            }
        }
        return (tasks, linked)
    }

    // MARK: chord

    /// `chord.apply_async` + `chord.run`: the body is frozen into the chord's group, every header
    /// member carries the body as its `chord`, the size is set before the last member is sent. An
    /// empty header sends the body at once with `[]`.
    private mutating func applyChord(_ signature: Signature, header: [Signature], headerOptions: JSONObject, body: Signature,
                                     args: [JSONValue], kwargs: JSONObject, options: JSONObject) throws(ProtocolError) -> ResultTuple {
        let args = signature.immutable || args.isEmpty ? signature.args : args + signature.args
        var o = signature.options
        for m in options { o[m.key] = m.value }
        o["countdown"] = nil
        o["eta"] = nil
        let taskID = o.take("task_id")?.stringValue
        let groupID = headerOptions["task_id"]?.stringValue ?? context.newID()
        let rootID = body.rootID
        var body = body
        for link in try Signature.list(o.take("link") ?? .null) { body.append(link, to: "link") }
        for errback in try Signature.list(o.take("link_error") ?? .null) { body.append(errback, to: "link_error") }
        for m in o where m.key != "parent_id" { body.options[m.key] = m.value }
        let (frozenBody, bodyResult) = try freeze(body, id: taskID ?? context.newID(), groupID: groupID, rootID: rootID)
        o["chain"] = nil
        o["chord"] = nil
        var headerGroup = Signature.group(header, options: headerOptions)
        headerGroup.options["task_id"] = .string(groupID)
        let (frozenHeader, headerResult) = try freeze(headerGroup, chord: frozenBody, rootID: rootID)
        guard !header.isEmpty else {
            try apply(frozenBody, args: [.array([])])
            return Self.withRootParent(bodyResult, headerResult)
        }
        var headerOptionsApplied = o
        headerOptionsApplied["task_id"] = .string(groupID)
        try apply(frozenHeader, args: args, kwargs: kwargs, options: headerOptionsApplied)
        return Self.withRootParent(bodyResult, headerResult)
    }

    // MARK: The message

    /// The message `send_task` builds from merged options (Celery's option names).
    private func makeMessage(_ name: String, args: [JSONValue], kwargs: JSONObject, options o: JSONObject) -> TaskMessage {
        var send = TaskSendOptions()
        send.taskID = o["task_id"]?.stringValue
        send.countdown = o["countdown"]?.doubleValue
        if let eta = o["eta"]?.stringValue { send.eta = CeleryDate.parse(eta) }
        switch o["expires"] {
        case .string(let s)?: send.expires = CeleryDate.parse(s)
        case let value?: send.expiresIn = value.doubleValue
        case nil: break
        }
        send.queue = o["queue"]?.stringValue ?? o["routing_key"]?.stringValue ?? context.defaultQueue
        send.priority = o["priority"]?.intValue
        send.timeLimit = o["time_limit"]?.doubleValue
        send.softTimeLimit = o["soft_time_limit"]?.doubleValue
        send.ignoreResult = o["ignore_result"]?.boolValue ?? false
        send.shadow = o["shadow"]?.stringValue
        send.replyTo = o["reply_to"]?.stringValue ?? context.replyTo
        send.parentID = o["parent_id"]?.stringValue ?? context.parentID
        send.rootID = o["root_id"]?.stringValue ?? context.rootID
        send.group = o["group_id"]?.stringValue
        send.groupIndex = o["group_index"]?.intValue
        send.callbacks = Self.maybeList(o["link"])
        send.errbacks = Self.maybeList(o["link_error"])
        send.chain = o["chain"] ?? .null
        send.chord = o["chord"] ?? .null
        if case .object(let headers)? = o["headers"] { send.headers = headers }
        var message = TaskMessage.make(name: name, args: args, kwargs: kwargs, options: send, origin: context.origin,
                                       now: context.now, newID: context.newID)
        if let nesting = o["replaced_task_nesting"]?.intValue { message.extraHeaders["replaced_task_nesting"] = .int(nesting) }
        if o["ignore_result"] == nil, !context.isRegistered(name) { message.ignoreResult = nil }
        return message
    }

    /// `maybe_list`: one signature becomes a list of one; `null` stays `null`.
    private static func maybeList(_ value: JSONValue?) -> JSONValue {
        switch value {
        case nil, .null?: .null
        case .object(let o)?: .array([.object(o)])
        case let v?: v
        }
    }
}

extension JSONObject {
    /// Removes `key` and returns its value (Python's `dict.pop(key, None)`).
    mutating func take(_ key: String) -> JSONValue? {
        let value = self[key]
        if value != nil { self[key] = nil }
        return value
    }
}
