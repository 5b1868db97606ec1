import Celeriac
import Foundation

/// What happens to one message, from the moment it is popped to its ack and result.
extension Worker {
    /// Decodes a taken message and makes sure it is recorded in `unacked` (the reservation script
    /// records what it can parse; a BRPOP'd message is recorded here). Returns `nil` when the
    /// message ends here: undecodable (dead-lettered with the reason), revoked, unregistered or
    /// expired (each acked with its result stored and event sent, as Celery does).
    func receive(_ reserved: ReservedMessage, _ live: Live) async -> Delivery? {
        let raw = reserved.raw
        let key = reserved.listKey
        let message: TaskMessage
        do {
            message = try TaskMessage.decode(bytes: raw)
        } catch {
            await deadLetter(raw, from: key, reason: "\(error)", recordedTag: reserved.recordedTag, live)
            return nil
        }
        let d = Delivery(listKey: key, raw: raw, message: message)
        if reserved.recordedTag != d.tag {
            if let stale = reserved.recordedTag { live.driver.ack(tag: stale) }
            // acks_late promises the message outlives a crash from here on: recorded first.
            // Otherwise it is acked as it starts, so the record only covers the moment until
            // then: it waits in the write queue, where that ack cancels it, unless the message
            // has to wait first (``process`` sends it then) or other writes take it along.
            await live.driver.recordHeld(HeldMessage(tag: d.tag, envelope: raw, exchange: message.exchange, routingKey: message.routingKey),
                                         durably: acksLate(message))
        }
        let m = message
        if revoked.contains(m.id) {
            await discardRevoked(d, live, expired: false)
            return nil
        }
        guard tasks[m.name] != nil else {
            logger.error("Received unregistered task of type '\(m.name)' [\(m.id)]: rejected and marked FAILURE NotRegistered")
            let error = TaskError.notRegistered(m.name)
            live.events.task { .taskFailed($0, clock: $1, timestamp: $2, uuid: m.id, exception: error.exceptionInfo.summary, traceback: nil) }
            await finish(d, .failure(taskID: m.id, exception: error.exceptionInfo, traceback: nil, now: Date(), parentID: m.parentID, groupID: m.group), live)
            return nil
        }
        if let expires = m.expires, expires < Date() {
            await discardRevoked(d, live, expired: true)
            return nil
        }
        live.events.task {
            .taskReceived($0, clock: $1, timestamp: $2, uuid: m.id, name: m.shadow ?? m.name, args: m.argsRepr ?? PythonRepr.argsRepr(m.args),
                          kwargs: m.kwargsRepr ?? PythonRepr.kwargsRepr(m.kwargs), rootID: m.rootID, parentID: m.parentID, retries: m.retries,
                          eta: m.eta.map(CeleryDate.format), expires: m.expires.map(CeleryDate.format))
        }
        let scheduled = m.eta.map { $0 > Date() } ?? false
        requests.add(d, phase: scheduled ? .scheduled : .reserved)
        logger.info("Task \(d.label) received\(scheduled ? " (eta \(CeleryDate.format(m.eta!)))" : "")")
        return d
    }

    /// Whether `m` is acked after it ran (the task's `acks_late`, or the worker's default).
    func acksLate(_ m: TaskMessage) -> Bool {
        (tasks[m.name]?.options.acksLate ?? false) || settings.acksLate
    }

    /// Acks a revoked or expired message without running it: REVOKED result and `task-revoked`.
    private func discardRevoked(_ d: Delivery, _ live: Live, expired: Bool) async {
        let m = d.message
        logger.info(expired ? "Task \(d.label) expired: not run, marked REVOKED" : "Discarding revoked task: \(d.label)")
        live.events.task { .taskRevoked($0, clock: $1, timestamp: $2, uuid: m.id, terminated: false, signum: nil, expired: expired) }
        if !middleware.isEmpty {
            let context = taskContext(m, options: tasks[m.name]?.options ?? TaskOptions())
            for hook in middleware { hook.taskRevoked(context, terminated: false, signal: nil, expired: expired) }
        }
        requests.remove(d)
        let reason = expired ? "expired" : "revoked"
        await finish(d, .revoked(taskID: m.id, reason: reason, now: Date(), parentID: m.parentID, groupID: m.group), live)
        // A revoked chord member returns its part REVOKED, which fails the chord (Celery's mark_as_revoked).
        if case .chordPart(let part)? = WorkflowSettlement.chordPart(of: m, state: .revoked, result: ExceptionInfo.revoked(reason).jsonValue,
                                                                      workflowFacts, origin: Self.retryOrigin, now: Date()) {
            await returnChordPart(part, live)
        }
    }

    /// Whether `m` goes straight to the pool when received (no ETA ahead, no rate limit): such a
    /// message takes its place in the pool's line as it is received (``AsyncSemaphore/Ticket``),
    /// so messages start in the order they arrived.
    func startsAtOnce(_ m: TaskMessage) -> Bool {
        if let eta = m.eta, eta > Date() { return false }
        return !rateLimits.limits(m.name)
    }

    /// Runs one received message to its end: ETA, revoke and expiry checks, rate limit, a pool
    /// slot (at `turn`, its place in line, when it has one), early ack, the task body, and its result.
    ///
    /// Its prefetch slot is given back as Celery's QoS does: when the message is acked (at start,
    /// or after the run with `acks_late`), and as soon as it turns out to wait for an ETA (Celery
    /// raises the prefetch count for those), so ETA tasks never starve the worker of work.
    func process(_ d: Delivery, _ live: Live, slot: PrefetchSlot, turn: AsyncSemaphore.Ticket?) async {
        let m = d.message
        defer { requests.remove(d) }
        // Every way out before the pool gives the place in line up.
        var turn = turn
        defer { if let turn { pool.cancel(turn) } }
        // A place taken under worker_eta_task_limit lasts until the message is done.
        var etaHold: EtaTaskLimit.Hold?
        defer { etaHold.map { etaLimit.leave($0, window: prefetchWindow) } }
        if let eta = m.eta {
            guard await waitForETA(eta, d, live, slot: slot, hold: &etaHold) else { return await restore(d, live) }
            requests.setPhase(m.id, .reserved)
        }
        if revoked.contains(m.id) { return await discardRevoked(d, live, expired: false) }
        if let expires = m.expires, expires < Date() { return await discardRevoked(d, live, expired: true) }
        while let wait = rateLimits.take(m.name) {
            // A limit set since it was received: it waits without holding up the line.
            if let held = turn {
                pool.cancel(held)
                turn = nil
            }
            if stopping.load(ordering: .relaxed) { return await restore(d, live) }
            live.driver.sendQueued()
            try? await Task.sleep(for: wait)
        }
        do {
            if let ticket = turn {
                turn = nil
                try await pool.redeem(ticket) { live.driver.sendQueued() }
            } else if pool.tryAcquire(upTo: 1) == 0 {
                live.driver.sendQueued()
                try await pool.acquire()
            }
        } catch {
            await restore(d, live)
            return
        }
        defer { pool.release() }
        if revoked.contains(m.id) { return await discardRevoked(d, live, expired: false) }
        // After a lapse of this worker's liveness a peer may have restored the message (LivenessFence).
        if liveness.withLock({ $0.mustFence() }), await !live.driver.isStillHeld(tag: d.tag) {
            logger.warning("Task \(d.label) not run: another worker restored it while this one's liveness had lapsed")
            return
        }
        let acksLate = acksLate(m)
        // Default (Celery's acks_late=False): ack when the task starts. acks_late: after it ran,
        // so a worker killed mid-task leaves the message in `unacked` to be restored.
        if !acksLate {
            await ack(d, live)
            slot.release()
        }
        let ran: Bool
        if acksLate && settings.pool == .async && LostWorkers.soFar(m) > 0 {
            // It was running when a worker died: it may be what killed it. It runs apart from
            // the other suspects, so a poison message's deaths are counted against it alone,
            // not against the innocent messages that happened to run beside it.
            ran = await quarantine.withLock {
                await markRunning(d, live)
                return await execute(d, live, acksLate: true)
            }
        } else {
            if acksLate { await markRunning(d, live) }
            ran = await execute(d, live, acksLate: acksLate)
        }
        if acksLate && !ran { await ackAfterResults(d, live) }
    }

    /// Runs the task body through the pool (``executor``) and settles it: what happens next is
    /// ``TaskSettlement``'s decision, carried out here. Returns false when the body did not run
    /// (revoked as it was about to start), so the caller acks it as before.
    private func execute(_ d: Delivery, _ live: Live, acksLate: Bool) async -> Bool {
        let m = d.message
        guard let task = tasks[m.name] else { return false }
        let context = taskContext(m, options: task.options)
        let limits = timeLimits.limits(for: m.name, message: m.timeLimit, defaults: settings.timeLimit)
        let started = ContinuousClock.now
        let ran = await executor.run(context: context, task: task, args: m.args, kwargs: m.kwargs, limits: limits) { pid, stop in
            guard self.requests.start(m.id, pid: pid, cancel: stop) else { return false }
            for hook in self.middleware { hook.taskPrerun(context) }
            live.events.task { .taskStarted($0, clock: $1, timestamp: $2, uuid: m.id) }
            if task.options.trackStarted {
                self.store(m, .started(taskID: m.id, pid: pid, hostname: self.settings.nodeName, parentID: m.parentID, groupID: m.group), live)
            }
            return true
        }
        guard let ran else { return false }
        let ending: TaskSettlement.Ending
        if let signum = requests.terminatedSignal(m.id) {
            ending = .terminated(signal: signum)
        } else if cold.load(ordering: .relaxed) {
            ending = .interrupted
        } else {
            switch ran {
            case .finished(let result): ending = .finished(result)
            case .hardLimit(let limit): ending = .hardLimit(limit)
            case .softLimit(let limit): ending = .softLimit(limit)
            case .workerLost(let reason): ending = .poolProcessLost(reason: reason)
            }
        }
        if case .interrupted = ending {} else {
            counters.withLock {
                $0.processed += 1
                $0.total[m.name, default: 0] += 1
            }
        }
        let facts = TaskSettlement.Facts(message: m, options: task.options, context: context, acksLate: acksLate,
                                         rejectOnWorkerLost: settings.rejectOnWorkerLost, workerLostRedeliveries: settings.workerLostRedeliveries,
                                         node: settings.nodeName, origin: Self.retryOrigin, now: Date(), runtime: started.duration(to: .now).seconds,
                                         workflow: WorkflowSettlement.isInWorkflow(m) ? workflowFacts : WorkflowSettlement.Facts())
        let actions = TaskSettlement.decide(ending, facts)
        if actions.allSatisfy(\.isImmediate) {
            carryOutAtOnce(actions, for: d, context: context, live)
        } else {
            await carryOut(actions, for: d, context: context, live)
        }
        return true
    }

    /// What a running task knows about itself (Celery's `self.request`).
    func taskContext(_ m: TaskMessage, options: TaskOptions) -> TaskContext {
        TaskContext(id: m.id, name: m.name, retries: m.retries, rootID: m.rootID, parentID: m.parentID,
                    hostname: settings.nodeName, logger: logger, options: options,
                    argsRepr: m.argsRepr ?? PythonRepr.argsRepr(m.args), kwargsRepr: m.kwargsRepr ?? PythonRepr.kwargsRepr(m.kwargs))
    }

    /// Keeps the original message of a failed task (bounded, with a TTL) so `qmon retry` can
    /// re-send it exactly. Queued before the FAILURE result, so whoever sees the failure can
    /// already retry it.
    func keepForRetry(_ d: Delivery, _ live: Live) {
        live.driver.keepForRetry(taskID: d.message.id, raw: d.raw)
    }

    /// Marks an `acks_late` message as running in its owner record, so that this worker's death
    /// while running it counts against the message (``BrokerDriver/sweepOrphans(policy:)``)
    /// and one that kills every worker is dead-lettered, not handed on forever. A redelivered
    /// message waits until the mark is stored: it may be the one that killed its last holder.
    private func markRunning(_ d: Delivery, _ live: Live) async {
        await live.driver.markRunning(tag: d.tag, stored: d.message.redelivered)
    }

    /// FAILURE for `m`: `task-failed` with the exception and traceback, and the result stored.
    func recordFailure(_ m: TaskMessage, _ error: TaskError, traceback: String, _ live: Live) async {
        live.events.task { .taskFailed($0, clock: $1, timestamp: $2, uuid: m.id, exception: error.exceptionInfo.summary, traceback: traceback) }
        store(m, .failure(taskID: m.id, exception: error.exceptionInfo, traceback: traceback, now: Date(), parentID: m.parentID, groupID: m.group), live)
    }

    /// Acks a message that will not run and stores its final state.
    private func finish(_ d: Delivery, _ meta: ResultMeta, _ live: Live) async {
        store(d.message, meta, live)
        await ack(d, live)
    }

    /// Queues the result (SETEX and PUBLISH, group-committed with other tasks' writes); the
    /// delivery's prefetch slot is freed only once it is written.
    func store(_ m: TaskMessage, _ meta: ResultMeta, _ live: Live) {
        guard live.driver.storesResults, m.ignoreResult != true, tasks[m.name]?.options.ignoreResult != true else { return }
        live.driver.storeResult(meta)
    }

    /// The late ack: Celery acks a late task only after its result is stored.
    func ackAfterResults(_ d: Delivery, _ live: Live) async {
        await live.driver.resultsStored()
        await ack(d, live)
    }

    /// Removes the message from kombu's `unacked` bookkeeping: it is ours now, for good.
    /// Queued behind this task's earlier writes (and group-committed by Redis's driver), unless
    /// this worker's liveness lapsed since it took the message (``LivenessFence``).
    func ack(_ d: Delivery, _ live: Live) async {
        if liveness.withLock({ $0.heldInDoubt(receivedAt: d.receivedAt) }) {
            _ = await releaseIfHeld(d, restoring: nil, live)
            return
        }
        live.driver.ack(tag: d.tag)
    }

    /// Acks or restores (`restoring` the envelope) a message this worker may no longer own: its
    /// liveness lapsed after it took it, so a peer may have restored it and may hold it now
    /// under the same delivery tag. Done only if the owner record still names this worker
    /// (``BrokerDriver/releaseIfHeld(tag:restoring:)``); otherwise the peer's bookkeeping stays as it
    /// is. A rare path (after a pause or an outage), so one round trip each. Whether it was done.
    private func releaseIfHeld(_ d: Delivery, restoring envelope: [UInt8]?, _ live: Live) async -> Bool {
        let released = await live.driver.releaseIfHeld(tag: d.tag, restoring: envelope.map { (d.message.listKey, $0) })
        if released == false {
            logger.warning("Task \(d.label) not \(envelope == nil ? "acked" : "restored"): another worker restored it while this one's liveness had lapsed, and it is that worker's now")
        }
        return released ?? false
    }

    /// Puts a held message back where the next BRPOP takes it, flagged as redelivered, exactly as
    /// kombu's restore does (RPUSH, same delivery tag, in one transaction with the un-record).
    func restore(_ d: Delivery, _ live: Live) async {
        var message = d.message
        message.markRedelivered()
        let envelope = message.encoded()
        // Forgotten before it is back on the list, where this worker may take it again at once.
        requests.remove(d)
        if liveness.withLock({ $0.heldInDoubt(receivedAt: d.receivedAt) }) {
            if await releaseIfHeld(d, restoring: envelope, live) { logger.info("Task \(d.label) restored to \(d.message.routingKey)") }
            return
        }
        await live.driver.restore(tag: d.tag, to: message.listKey, envelope: envelope)
        logger.info("Task \(d.label) restored to \(d.message.routingKey)")
    }

    /// Moves a message the worker cannot handle to the dead-letter list with the reason; when it
    /// was recorded as held under `recordedTag`, that record goes in the same transaction, or a
    /// restore would bring the message back.
    func deadLetter(_ raw: [UInt8], from key: String, reason: String, recordedTag: String?, _ live: Live) async {
        let queue = QueueKeys.queueName(ofList: key)
        let record = DeadLetter(reason: reason, queue: queue, time: Date(), worker: settings.nodeName, rawMessage: raw)
        logger.error("dead-lettered a message from \(queue) to \(settings.deadLetterKey): \(reason)")
        await live.driver.deadLetter(record, to: settings.deadLetterKey, heldAs: recordedTag)
    }
}
