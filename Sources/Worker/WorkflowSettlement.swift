import Celeriac
import Foundation

/// The workflow half of ``TaskSettlement``: what a task's `link`, `link_error`, `chain` and
/// `chord` make the worker do after its body ended, as Celery 5.7's tracer and result backend
/// do it. Pure: it plans messages with ``CanvasPlanner`` and returns actions.
///
/// - Success: callbacks and the next chain step are published *before* the result is stored
///   (so its `children` name them), the chord part is returned *after* (even with
///   `ignore_result`).
/// - Failure: the result is stored, then the chord part, then FAILURE under every later chain
///   step's id (`_fail_chain`), then the errbacks: in-process for a Swift task that takes
///   `(request, exc, traceback)`, else sent as one group with the failed id prepended.
/// - Retry: none of these; the retried message carries them on.
enum WorkflowSettlement {
    /// How this worker applies workflows.
    struct Facts: Sendable {
        /// `reply_to` of signatures this worker freezes (Celery's `app.thread_oid`).
        var replyTo: String
        /// `task_default_queue`: where a step whose options name no queue goes.
        var defaultQueue: String
        /// `task_inherit_parent_priority`.
        var inheritParentPriority: Bool
        var chord: ChordJoin.Settings
        var newID: @Sendable () -> String
        /// A task registered here: its parameter count, to tell a new-style errback (more than
        /// one parameter left after its stored arguments, Celery's `arity_greater`); `nil` when
        /// it is not registered here.
        var registeredParameters: @Sendable (String) -> Int?

        init(replyTo: String = "", defaultQueue: String = "celery", inheritParentPriority: Bool = false,
             chord: ChordJoin.Settings = ChordJoin.Settings(), newID: @escaping @Sendable () -> String = RandomUUID.string,
             registeredParameters: @escaping @Sendable (String) -> Int? = { _ in nil }) {
            self.replyTo = replyTo
            self.defaultQueue = defaultQueue
            self.inheritParentPriority = inheritParentPriority
            self.chord = chord
            self.newID = newID
            self.registeredParameters = registeredParameters
        }
    }

    /// Whether a message takes part in a workflow at all: most do not, and their settlement
    /// stays a report and a store.
    static func isInWorkflow(_ m: TaskMessage) -> Bool {
        !(m.callbacks.isNull && m.chain.isNull && m.chord.isNull && m.errbacks.isNull)
    }

    /// The context the worker applies signatures in on behalf of the running task `m`.
    static func context(of m: TaskMessage, _ facts: Facts, origin: String, now: Date) -> CanvasContext {
        let registered = facts.registeredParameters
        return CanvasContext(parentID: m.id, rootID: m.rootID ?? m.id, replyTo: facts.replyTo, origin: origin,
                             defaultQueue: facts.defaultQueue, now: now, newID: facts.newID, isRegistered: { registered($0) != nil },
                             signaturesFromWire: true)
    }

    // MARK: Success

    /// `_dispatch_callbacks_and_chain`: the callbacks (one alone; several as one group, any
    /// group callback on its own first), then the next chain step, each with the result
    /// prepended. Returns the plan and the results it made, for the stored `children`.
    static func afterSuccess(_ value: JSONValue, of m: TaskMessage, _ facts: Facts, origin: String, now: Date)
        throws(ProtocolError) -> (plan: CanvasPlan, children: [ResultTuple])
    {
        var planner = CanvasPlanner(context: context(of: m, facts, origin: origin, now: now))
        var children: [ResultTuple] = []
        let options = applyOptions(m, facts)
        let callbacks = try Signature.list(m.callbacks)
        if callbacks.count == 1 {
            children.append(try planner.apply(callbacks[0], args: [value], options: options))
        } else if callbacks.count > 1 {
            var plain: [Signature] = []
            for callback in callbacks {
                if case .group = try callback.kind() {
                    children.append(try planner.apply(callback, args: [value], options: options))
                } else {
                    plain.append(callback)
                }
            }
            if !plain.isEmpty { children.append(try planner.apply(.group(plain), args: [value], options: options)) }
        }
        var chain = try Signature.list(m.chain)
        if let next = chain.popLast() {
            // `apply_async((retval,), chain=chain[:-1], parent_id=…, root_id=…, priority=…)`: in
            // that order, which is the order a chord step's body carries them in.
            var stepOptions: JSONObject = ["chain": .array(chain.map(\.jsonValue))]
            for m in options { stepOptions[m.key] = m.value }
            children.append(try planner.apply(next, args: [value], options: stepOptions))
        }
        return (planner.plan, children)
    }

    /// `parent_id`, `root_id` and `priority` as the tracer passes them to every callback and step.
    private static func applyOptions(_ m: TaskMessage, _ facts: Facts) -> JSONObject {
        ["parent_id": .string(m.id), "root_id": .string(m.rootID ?? m.id),
         "priority": facts.inheritParentPriority ? .int(m.priority) : .null]
    }

    // MARK: Replacement

    /// `Task.replace(sig)`: the signature takes over this task's id, chord, group, root, links
    /// and the rest of its chain, and is sent as a task of this one (its `parent_id` is this id).
    /// - Throws: ``ProtocolError`` for a malformed signature or one that is a chord member.
    static func replaced(by replacement: Signature, of m: TaskMessage, _ facts: Facts, origin: String, now: Date) throws(ProtocolError) -> CanvasPlan {
        guard replacement.options["chord"] == nil else {
            throw ProtocolError(.wrongType, "A signature replacing a task must not be part of a chord")
        }
        let accumulate = Signature(task: "celery.accumulate", kwargs: ["index": 0])
        var sig = replacement
        switch try sig.kind() {
        case .group:
            sig = .chain([sig, accumulate])
        case .chain(var steps):
            guard let last = steps.last else { throw ProtocolError(.missingField, "Cannot replace with an empty chain") }
            if case .group = try last.kind() { steps.append(accumulate) }
            sig.kwargs["tasks"] = .array(steps.map(\.jsonValue))
        default:
            break
        }
        let nesting = (m.extraHeaders["replaced_task_nesting"]?.intValue ?? 0).addingReportingOverflow(1)
        let replacedNesting = JSONValue.int(nesting.overflow ? Int.max : nesting.partialValue)
        let callbacks = try Signature.list(m.callbacks), errbacks = try Signature.list(m.errbacks)
        if case .chain(var steps) = try sig.kind(), !steps.isEmpty {
            for callback in callbacks { steps[steps.count - 1].append(callback, to: "link") }
            for index in steps.indices { steps[index].set("replaced_task_nesting", replacedNesting) }
            sig.kwargs["tasks"] = .array(steps.map(\.jsonValue))
        } else {
            for callback in callbacks { sig.append(callback, to: "link") }
        }
        for errback in errbacks { sig.append(errback, to: "link_error") }
        // The replacement was built in this process (its args are Python's tuples, not lists off the wire).
        var local = context(of: m, facts, origin: origin, now: now)
        local.signaturesFromWire = false
        var planner = CanvasPlanner(context: local)
        (sig, _) = try planner.freeze(sig, id: m.id)
        sig.set("chord", m.chord)
        sig.set("group_id", m.group.map { .string($0) } ?? .null)
        sig.set("group_index", m.groupIndex.map { .int($0) } ?? .null)
        sig.set("root_id", m.rootID.map { .string($0) } ?? .null)
        sig.set("replaced_task_nesting", replacedNesting)
        let rest = try Signature.list(m.chain).reversed().map { step -> Signature in
            var step = step
            step.set("replaced_task_nesting", replacedNesting)
            return step
        }
        if !rest.isEmpty { sig = .chain([sig] + rest) }
        try planner.apply(sig)
        return planner.plan
    }

    // MARK: Chord parts

    /// The member's part of its chord (`on_chord_part_return`), when it is a chord member.
    static func chordPart(of m: TaskMessage, state: TaskState, result: JSONValue, _ facts: Facts, origin: String, now: Date) -> TaskSettlement.Action? {
        chordPart(of: m, state: state, result: result, facts, context: context(of: m, facts, origin: origin, now: now))
    }

    private static func chordPart(of m: TaskMessage, state: TaskState, result: JSONValue, _ facts: Facts, context: CanvasContext)
        -> TaskSettlement.Action?
    {
        guard let groupID = m.group, !m.chord.isNull, let callback = try? Signature(json: m.chord) else { return nil }
        return part(of: m.id, in: groupID, at: m.groupIndex, state: state, result: result, callback: callback, facts, context: context,
                    unlessAlreadyFailed: false)
    }

    /// Returning `taskID`'s part of group `groupID`'s chord, with a fresh claim token (uuid4 hex).
    private static func part(of taskID: String, in groupID: String, at groupIndex: Int?, state: TaskState, result: JSONValue,
                             callback: Signature, _ facts: Facts, context: CanvasContext, unlessAlreadyFailed: Bool) -> TaskSettlement.Action {
        let part = ChordPart(groupID: groupID, taskID: taskID, groupIndex: groupIndex,
                             entry: ChordJoin.entry(taskID: taskID, state: state, result: result), settings: facts.chord,
                             claimToken: facts.newID().replacingOccurrences(of: "-", with: ""))
        return .chordPart(ChordPartReturn(part: part, callback: callback, context: context, unlessAlreadyFailed: unlessAlreadyFailed))
    }

    // MARK: Failure

    /// After a FAILURE is stored: the chord part, the later chain steps failed, the errbacks.
    static func afterFailure(_ exception: ExceptionInfo, traceback: String, of m: TaskMessage, _ facts: Facts, origin: String, now: Date)
        -> [TaskSettlement.Action]
    {
        var actions: [TaskSettlement.Action] = []
        let context = context(of: m, facts, origin: origin, now: now)
        if let part = chordPart(of: m, state: .failure, result: exception.jsonValue, facts, context: context) { actions.append(part) }
        actions += failChain((try? Signature.list(m.chain)) ?? [], exception, traceback: traceback, facts, context: context, now: now)
        actions += errbacks((try? Signature.list(m.errbacks)) ?? [], failedID: m.id, rootID: m.rootID ?? m.id,
                            request: requestJSON(m), exception, traceback: traceback, facts, context: context)
        return actions
    }

    /// `_fail_chain`: FAILURE stored under every later step's id (so `chain.get()` raises at
    /// once), their chord parts returned, and a chord step's body failed too.
    static func failChain(_ chain: [Signature], _ exception: ExceptionInfo, traceback: String, _ facts: Facts, context: CanvasContext,
                          now: Date) -> [TaskSettlement.Action] {
        var actions: [TaskSettlement.Action] = []
        var elements = chain
        while !elements.isEmpty {
            let element = elements.removeFirst()
            let id = element.taskID
            // A step that is a chord member returns its part, unless it already failed (and so
            // returned it). Celery reads the state before storing the FAILURE below; returning
            // the part first reads it before too (the part carries the exception itself).
            if let id, let groupID = element.groupID, let chordJSON = element.options["chord"], let callback = try? Signature(json: chordJSON) {
                actions.append(part(of: id, in: groupID, at: element.options["group_index"]?.intValue, state: .failure,
                                    result: exception.jsonValue, callback: callback, facts, context: context, unlessAlreadyFailed: true))
            }
            if let id {
                actions.append(.store(.failure(taskID: id, exception: exception, traceback: traceback, now: now,
                                               parentID: element.options["parent_id"]?.stringValue, groupID: element.groupID)))
            }
            if element.subtaskType == "chord", let body = element.kwargs["body"], let bodySig = try? Signature(json: body) {
                elements.append(bodySig)
            }
        }
        return actions
    }

    /// `_call_task_errbacks`: a Swift task here that takes more than one argument beyond its
    /// stored ones is called in-process with `(request, exc, traceback)`; every other errback
    /// (one argument, or a task this worker lacks) is sent, all as one group, with the failed
    /// task's id prepended.
    static func errbacks(_ errbacks: [Signature], failedID: String, rootID: String, request: JSONValue, _ exception: ExceptionInfo,
                         traceback: String, _ facts: Facts, context: CanvasContext) -> [TaskSettlement.Action] {
        guard !errbacks.isEmpty else { return [] }
        var actions: [TaskSettlement.Action] = []
        var oldStyle: [Signature] = []
        for errback in errbacks {
            if let parameters = facts.registeredParameters(errback.task), isNewStyle(errback, parameters: parameters) {
                let merged = errback.merged(args: [request, exception.jsonValue, .string(traceback)], kwargs: [:], options: [:])
                actions.append(.callErrback(ErrbackCall(task: errback.task, arguments: TaskArguments(args: merged.args, kwargs: merged.kwargs),
                                                        failedID: failedID)))
            } else {
                oldStyle.append(errback)
            }
        }
        if !oldStyle.isEmpty {
            var planner = CanvasPlanner(context: context)
            if (try? planner.apply(.group(oldStyle), args: [.string(failedID)],
                                   options: ["parent_id": .string(failedID), "root_id": .string(rootID)])) != nil {
                actions.append(.publish(planner.plan))
            }
        }
        return actions
    }

    /// Celery's `_errback_arity_greater(errback, 1)`: parameters left after the signature's own
    /// arguments (all of them for an immutable one) number more than one.
    static func isNewStyle(_ errback: Signature, parameters: Int) -> Bool {
        let bound = errback.immutable ? 0 : errback.args.count + errback.kwargs.count
        return parameters - bound > 1
    }

    /// The failed task's request, as a new-style errback's first argument: the fields of
    /// Celery's `Context` a handler reads.
    static func requestJSON(_ m: TaskMessage) -> JSONValue {
        .object([
            "id": .string(m.id), "task": .string(m.name), "args": .array(m.args), "kwargs": .object(m.kwargs),
            "root_id": m.rootID.map { .string($0) } ?? .null, "parent_id": m.parentID.map { .string($0) } ?? .null,
            "group": m.group.map { .string($0) } ?? .null, "group_index": m.groupIndex.map { .int($0) } ?? .null,
            "retries": .int(m.retries), "origin": m.origin.map { .string($0) } ?? .null,
        ])
    }
}

/// A chord part to return, and what the worker needs to finish the join if it completes it.
struct ChordPartReturn: Sendable {
    var part: ChordPart
    /// The chord's body (the member's `chord` embed).
    var callback: Signature
    /// The member's context: the body's `parent_id` is the member that completed the chord.
    var context: CanvasContext
    /// `_fail_chain`'s check: skip it when the step's stored state already failed (it returned
    /// its part then).
    var unlessAlreadyFailed: Bool
}

/// A new-style errback called in-process.
struct ErrbackCall: Sendable {
    var task: String
    var arguments: TaskArguments
    var failedID: String
}
