import Celeriac
import Foundation
import Logging

/// Carrying out ``WorkflowSettlement``'s actions: publishing what a workflow applies, returning
/// chord parts and joining a chord whose last part this worker returned, calling new-style
/// errbacks.
extension Worker {
    /// The facts ``WorkflowSettlement`` decides with, from this worker's settings and registry.
    var workflowFacts: WorkflowSettlement.Facts {
        let tasks = self.tasks
        return WorkflowSettlement.Facts(replyTo: replyTo, defaultQueue: settings.taskDefaultQueue,
                                        inheritParentPriority: settings.inheritParentPriority, chord: settings.chordJoin,
                                        newID: RandomUUID.string, registeredParameters: { tasks[$0]?.parameters.count })
    }

    /// Publishes a plan's messages in order (through the middleware's publish hooks), setting
    /// each chord's size before its header's last member.
    func publish(_ plan: CanvasPlan, _ live: Live) async {
        for step in plan.steps {
            switch step {
            case .setChordSize(let groupID, let size):
                await live.driver.setChordSize(groupID: groupID, size: size, expires: settings.chordJoin.expires)
            case .publish(let message):
                await publish(message, live)
            }
        }
    }

    /// Celery's `on_chord_part_return` on Redis: records the part; if it completes the chord
    /// and this worker got the claim, reads the parts and either publishes the body with the
    /// results in header order (the claim extended first, the keys cleaned up after) or fails
    /// the body with `ChordError` and drops the chord's size.
    func returnChordPart(_ r: ChordPartReturn, _ live: Live) async {
        let gid = r.part.groupID
        if r.unlessAlreadyFailed, let stored = await live.driver.storedResult(of: r.part.taskID),
           stored.status == .failure || stored.status == .revoked {
            return
        }
        guard let count = await live.driver.recordChordPart(r.part), count.joins else { return }
        let settings = r.part.settings
        let outcome = await live.driver.chordParts(groupID: gid, ordered: settings.ordered).map(ChordJoin.decide(entries:))
            ?? .failed(message: "Join error: the parts of chord \(gid) could not be read")
        switch outcome {
        case .complete(let results):
            guard await live.driver.extendChordClaim(groupID: gid, token: r.part.claimToken, seconds: settings.publishClaimExpires) else {
                logger.warning("Chord callback for '\(gid)' not published: dispatch claim is no longer owned by this worker")
                return
            }
            var context = r.context
            context.now = Date()
            var planner = CanvasPlanner(context: context)
            do {
                try planner.apply(r.callback, args: [.array(results)])
                await publish(planner.plan, live)
            } catch {
                logger.error("Chord callback for '\(gid)' raised: \(error)")
                await failChordBody(r, message: "Callback error: \(error)", live)
            }
            if await !live.driver.finishChord(groupID: gid, token: r.part.claimToken, doneExpires: settings.doneExpires) {
                logger.warning("Chord callback claim for '\(gid)' was lost before cleanup; chord data was left for expiry")
            }
        case .failed(let message):
            logger.error("Chord '\(gid)' raised: ChordError(\(PythonRepr.stringRepr(message)))")
            await failChordBody(r, message: message, live)
            await live.driver.abandonChord(groupID: gid)
        }
    }

    /// `chord_error_from_stack`: the body's errbacks, FAILURE `ChordError` stored under the
    /// body's id (with no parent or group, as Celery stores it without a request), and the
    /// body's own chain failed.
    private func failChordBody(_ r: ChordPartReturn, message: String, _ live: Live) async {
        let body = r.callback
        let bodyID = body.taskID ?? RandomUUID.string()
        let error = ChordJoin.chordError(message)
        let traceback = "Traceback (most recent call last):\n  chord \(r.part.groupID) on \(settings.nodeName)\ncelery.exceptions.ChordError: \(message)\n"
        let facts = workflowFacts
        var context = r.context
        context.now = Date()
        let request: JSONValue = .object(["id": .string(bodyID), "task": .string(body.task), "args": .array(body.args),
                                          "kwargs": .object(body.kwargs), "root_id": .null, "parent_id": .null, "group": .null])
        var actions = WorkflowSettlement.errbacks((try? Signature.list(body.options["link_error"] ?? .null)) ?? [], failedID: bodyID,
                                                  rootID: bodyID, request: request, error, traceback: traceback, facts, context: context)
        actions.append(TaskSettlement.Action.store(.failure(taskID: bodyID, exception: error, traceback: traceback, now: context.now)))
        actions += WorkflowSettlement.failChain((try? Signature.list(body.options["chain"] ?? .null)) ?? [], error, traceback: traceback,
                                               facts, context: context, now: context.now)
        for action in actions {
            switch action {
            case .store(let meta): if live.driver.storesResults { live.driver.storeResult(meta) }
            case .publish(let plan): await publish(plan, live)
            case .chordPart(let part): await returnChordPart(part, live)
            case .callErrback(let call): await callErrback(call)
            default: break
            }
        }
    }

    /// Calls a new-style errback's body in this process, as Celery calls
    /// `errback(request, exc, traceback)`: no message, no stored result, no event; what it
    /// throws is logged.
    func callErrback(_ call: ErrbackCall) async {
        guard let task = tasks[call.task] else { return }
        let context = TaskContext(id: call.failedID, name: call.task, hostname: settings.nodeName, logger: logger, options: task.options)
        do {
            _ = try await TaskContext.$current.withValue(context) { try await task.body(call.arguments) }
        } catch {
            logger.error("Errback '\(call.task)' raised an exception: \(TaskError.from(error).exceptionInfo.summary)")
        }
    }
}
