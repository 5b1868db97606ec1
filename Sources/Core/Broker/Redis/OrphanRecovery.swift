import Foundation

/// Brings back, within seconds, the messages a worker held when it died (kill -9, OOM, power).
///
/// kombu only restores `unacked` messages after the visibility timeout (an hour by default).
/// Celeriac workers also record, beside kombu's bookkeeping, which worker incarnation holds each
/// message (`celeriac.unacked_owner`: delivery tag → `node incarnation`), and keep a liveness key
/// (`celeriac.worker.<node>` = incarnation, expiring after the ``LivenessWindow``) fresh while they
/// run. Every refresh interval each live worker looks for messages whose holder's liveness key is
/// gone or belongs to a newer incarnation, and restores them the way kombu does (RPUSH with the
/// redelivered marks), atomically in a script that checks the message is still unacked and still
/// owned by the dead holder. Python processes ignore the extra keys; their own restore keeps working.
package enum OrphanRecovery {
    package static let ownerKey = "celeriac.unacked_owner"

    package static func livenessKey(node: String) -> String { "celeriac.worker." + node }

    /// `node incarnation`, the owner value a worker writes.
    package static func owner(node: String, incarnation: String) -> String { node + " " + incarnation }

    /// What an owner value says: the holder, and whether it had started running the message.
    package struct Holder: Equatable {
        package var node: String
        package var incarnation: String
        /// The holder marked the message as running (``runningMark``): a death while holding
        /// it counts against the message.
        package var running: Bool
    }

    /// Appended to the owner value when an `acks_late` message starts running, so that a
    /// sweep can tell a message its holder died *running* (it may be what killed it) from one
    /// that was only prefetched.
    package static let runningMark = " running"

    /// `node incarnation running`, the owner value of a message its holder is running.
    package static func running(_ owner: String) -> String { owner + runningMark }

    /// Splits an owner value back into node, incarnation and the running mark.
    package static func parseOwner(_ value: String) -> Holder? {
        var rest = Substring(value)
        let running = rest.hasSuffix(runningMark)
        if running { rest = rest.dropLast(runningMark.count) }
        guard let space = rest.lastIndex(of: " ") else { return nil }
        return Holder(node: String(rest[..<space]), incarnation: String(rest[rest.index(after: space)...]), running: running)
    }

    /// The command that keeps this worker's liveness key fresh.
    package static func refreshCommand(node: String, incarnation: String, window: LivenessWindow) -> RedisCommand {
        RedisCommand("SET", livenessKey(node: node), incarnation, "PX", window.milliseconds)
    }

    /// Moves one orphan off kombu's bookkeeping if it is still unacked and still held by
    /// `owner`, pushing `value` with `push` (`RPUSH` puts the message back on its queue as
    /// kombu's restore does; `LPUSH` adds a record to the dead-letter list):
    /// KEYS = unacked, unacked_index, owner hash, destination list; ARGV = tag, owner, value, push.
    package static let moveScript = """
        if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then return 0 end
        redis.call('HDEL', KEYS[3], ARGV[1])
        if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
        redis.call('HDEL', KEYS[1], ARGV[1])
        redis.call('ZREM', KEYS[2], ARGV[1])
        redis.call(ARGV[4], KEYS[4], ARGV[3])
        return 1
        """

    /// A holder's ack or restore of a message it may no longer own (its liveness lapsed after it
    /// took it, ``LivenessFence``): done only if the owner record still names the holder
    /// (running or not); otherwise a peer restored the message and may hold it now under the
    /// same delivery tag, and its bookkeeping is left alone.
    /// KEYS = unacked, unacked_index, owner hash, list to push to (restore only);
    /// ARGV = tag, owner, and for a restore the envelope and `RPUSH`. 1 when done, 0 when not held.
    package static let releaseIfHeldScript = """
        local holder = redis.call('HGET', KEYS[3], ARGV[1])
        if holder ~= ARGV[2] and holder ~= ARGV[2] .. '\(runningMark)' then return 0 end
        redis.call('HDEL', KEYS[3], ARGV[1])
        redis.call('HDEL', KEYS[1], ARGV[1])
        redis.call('ZREM', KEYS[2], ARGV[1])
        if ARGV[4] then redis.call(ARGV[4], KEYS[4], ARGV[3]) end
        return 1
        """

    /// A holder's running mark, set only if the owner record still names it (see
    /// ``releaseIfHeldScript``): KEYS = owner hash; ARGV = tag, owner.
    package static let markIfHeldScript = """
        local holder = redis.call('HGET', KEYS[1], ARGV[1])
        if holder ~= ARGV[2] and holder ~= ARGV[2] .. '\(runningMark)' then return 0 end
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. '\(runningMark)')
        return 1
        """

    /// The command for ``releaseIfHeldScript``: an ack of `tag`, or its restore when `restoring`
    /// gives the list and envelope.
    package static func releaseIfHeld(tag: String, owner: String, restoring: (list: String, envelope: [UInt8])? = nil) -> RedisCommand {
        guard let restoring else {
            return RedisCommand("EVAL", releaseIfHeldScript, 3, QueueKeys.unacked, QueueKeys.unackedIndex, ownerKey, tag, owner)
        }
        return RedisCommand("EVAL", releaseIfHeldScript, 4, QueueKeys.unacked, QueueKeys.unackedIndex, ownerKey, restoring.list,
                            tag, owner, restoring.envelope, "RPUSH")
    }

    /// ``moveScript`` for one orphan: 1 when it was still held by `owner` and is moved now.
    private static func move(_ orphan: (tag: String, owner: String, running: Bool), to list: String, value: [UInt8],
                             push: String, client: RedisClient) async throws -> Int {
        let reply = try await client.send(RedisCommand("EVAL", moveScript, 4, QueueKeys.unacked, QueueKeys.unackedIndex, ownerKey,
                                                       list, orphan.tag, orphan.owner, value, push))
        return reply.int ?? 0
    }

    /// What one sweep did.
    package typealias Sweep = OrphanSweep

    /// How a sweep treats a message its holder died running.
    package typealias PoisonPolicy = OrphanPoisonPolicy

    /// What becomes of an orphan (`envelope`, decoded as `message`) whose holder died.
    package enum Fate {
        /// Its holders died running it more often than allowed: this record goes to the dead-letter list.
        case deadLetter(DeadLetter)
        /// Back on its queue as this message: redelivered, its lost-worker count raised if its
        /// holder was running it.
        case restore(TaskMessage)
    }

    /// The sweep's decision for one orphan, shared by every driver's sweep: a message its holder
    /// had marked as running counts one more lost worker (``LostWorkers``); past
    /// `policy.redeliveries` it is dead-lettered instead of restored.
    package static func fate(of message: TaskMessage, envelope: [UInt8], running: Bool, policy: OrphanPoisonPolicy) -> Fate {
        var message = message
        if running {
            let losses = LostWorkers.counting(message)
            if losses > policy.redeliveries {
                return .deadLetter(DeadLetter(reason: "task \(message.name)[\(message.id)] was running when its worker died \(losses) times; not redelivered again",
                                              queue: message.routingKey, time: Date(), worker: policy.node, rawMessage: envelope))
            }
            message.extraHeaders[LostWorkers.header] = .int(losses)
        }
        message.markRedelivered()
        return .restore(message)
    }

    /// Finds and restores the messages of dead holders. A message its holder had marked as
    /// running counts one more lost worker in its ``LostWorkers/header``; past
    /// `policy.redeliveries` it is dead-lettered instead, so a message that kills every worker
    /// that runs it (a crash, the OOM killer) is not handed from one to the next forever.
    package static func sweep(client: RedisClient, selfOwner: String, policy: PoisonPolicy) async throws -> Sweep {
        var cursor = "0"
        var orphans: [(tag: String, owner: String, running: Bool)] = []
        var livenessCache: [String: String?] = [:]
        repeat {
            let reply = try await client.send(RedisCommand("HSCAN", ownerKey, cursor, "COUNT", 500))
            guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let items = parts[1].array else { break }
            cursor = next
            var i = 0
            while i + 1 < items.count {
                defer { i += 2 }
                guard let tag = items[i].string, let owner = items[i + 1].string, let holder = parseOwner(owner),
                      Self.owner(node: holder.node, incarnation: holder.incarnation) != selfOwner else { continue }
                if livenessCache[holder.node] == nil {
                    livenessCache[holder.node] = .some(try await client.send(RedisCommand("GET", livenessKey(node: holder.node))).string)
                }
                if livenessCache[holder.node]! != holder.incarnation { orphans.append((tag, owner, holder.running)) }
            }
        } while cursor != "0"
        var sweep = Sweep()
        for orphan in orphans {
            guard let raw = try await client.send(RedisCommand("HGET", QueueKeys.unacked, orphan.tag)).bytes,
                  let entry = try? UnackedEntry.decode(raw), let message = try? TaskMessage.decode(bytes: entry.envelope) else {
                // Not ours to judge (already restored by someone, or not a task): just forget the owner.
                _ = try await client.send(RedisCommand("HDEL", ownerKey, orphan.tag))
                continue
            }
            switch fate(of: message, envelope: entry.envelope, running: orphan.running, policy: policy) {
            case .deadLetter(let letter):
                if try await move(orphan, to: policy.deadLetterKey, value: letter.encoded(), push: "LPUSH", client: client) == 1 {
                    sweep.deadLettered.append(message)
                }
                continue
            case .restore(let restored):
                sweep.restored += try await move(orphan, to: message.listKey, value: restored.encoded(), push: "RPUSH", client: client)
            }
        }
        return sweep
    }
}

/// Whether a worker may judge other workers dead: only once its own liveness refreshes have
/// gone through promptly for a full ``LivenessWindow``.
///
/// Redis keeps expiry times absolute, so while it is down every worker's liveness key lapses;
/// right after the outage each key is missing until its worker refreshes it. A worker that swept
/// at once would restore the messages its live peers still hold (and they would run twice).
/// A refresh that fails or hangs (an outage) starts the wait again.
package struct OrphanSweepGate {
    private let window: LivenessWindow
    private var healthySince: ContinuousClock.Instant

    package init(window: LivenessWindow, now: ContinuousClock.Instant = .now) {
        self.window = window
        healthySince = now
    }

    /// Records one liveness refresh: whether it succeeded and how long it took.
    package mutating func refreshed(succeeded: Bool, took: Duration, now: ContinuousClock.Instant = .now) {
        if !succeeded || took >= window.refreshInterval { healthySince = now }
    }

    /// Whether Redis has been reachable long enough for every live peer to have refreshed.
    package func maySweep(now: ContinuousClock.Instant = .now) -> Bool {
        now - healthySince >= window.timeout
    }
}
