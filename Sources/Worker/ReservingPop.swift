import Celeriac
import Foundation

/// Takes the next message off the consumed lists and records it in kombu's `unacked` bookkeeping
/// (and Celeriac's owner hash) in one atomic step, inside Redis.
///
/// kombu pops with BRPOP and records the message afterwards: a worker killed between the two
/// (a window of one round trip, open for every message under load) loses the message for good,
/// since nothing in Redis remembers it. Run as a script, the pop and the record are one
/// operation, so a message is always either on its list or in `unacked`, where a restore finds
/// it. The entry is the one kombu writes (`[envelope, exchange, routing_key]`, the envelope
/// spliced in as popped), so Python processes can restore it too; the worker records it again,
/// identically, once it has decoded it.
///
/// A script cannot block, so this serves the busy case; when every list is empty the worker
/// falls back to BRPOP, where kombu's window remains for a message that arrives at an idle worker.
enum ReservingPop {
    /// KEYS = unacked, unacked index, owner hash, the worker's last-pop hash, then the lists in
    /// consume order; ARGV = owner, now (seconds), token. Returns `{list, raw}` or nil.
    ///
    /// A reply lost with the connection would strand what the pop took (recorded as held by a
    /// live worker, so never restored): the last pop is kept under its token, and the worker
    /// repeats a pop whose reply it lost with the same token, getting the same message back.
    /// Messages without a string `properties.delivery_tag` (not task messages) are returned
    /// unrecorded: the worker dead-letters them.
    static let script = """
        if redis.call('HGET', KEYS[4], 'token') == ARGV[3] then
          return {redis.call('HGET', KEYS[4], 'list'), redis.call('HGET', KEYS[4], 'raw')}
        end
        for i = 5, #KEYS do
          local raw = redis.call('RPOP', KEYS[i])
          if raw then
            local ok, m = pcall(cjson.decode, raw)
            if ok and type(m) == 'table' and type(m.properties) == 'table' and type(m.properties.delivery_tag) == 'string' then
              local p = m.properties
              local info = type(p.delivery_info) == 'table' and p.delivery_info or {}
              local exchange = type(info.exchange) == 'string' and info.exchange or ''
              local routing = type(info.routing_key) == 'string' and info.routing_key or ''
              local tag = p.delivery_tag
              redis.call('ZADD', KEYS[2], ARGV[2], tag)
              redis.call('HSET', KEYS[1], tag, '[' .. raw .. ', ' .. cjson.encode(exchange) .. ', ' .. cjson.encode(routing) .. ']')
              redis.call('HSET', KEYS[3], tag, ARGV[1])
            end
            redis.call('HSET', KEYS[4], 'token', ARGV[3], 'list', KEYS[i], 'raw', raw)
            redis.call('PEXPIRE', KEYS[4], 86400000)
            return {KEYS[i], raw}
          end
        end
        return false
        """

    /// The worker's last-pop hash (token, list, raw), kept a day after its last pop.
    static func lastPopKey(owner: String) -> String { "celeriac.last_pop." + owner }

    /// The EVAL that pops from the first non-empty list of `keys` for `owner`; `token` names
    /// this pop (a fresh one per pop, the same one when repeating a pop whose reply was lost).
    static func command(keys: [String], owner: String, token: String, now: Date = Date()) -> RedisCommand {
        let head: [any RedisArgument] = [script, 4 + keys.count, QueueKeys.unacked, QueueKeys.unackedIndex, OrphanRecovery.ownerKey,
                                         lastPopKey(owner: owner)]
        let tail: [any RedisArgument] = [owner, now.timeIntervalSince1970, token]
        return RedisCommand("EVAL", arguments: head + keys.map { $0 as any RedisArgument } + tail)
    }

    /// The list and the raw message, or `nil` when every list was empty.
    static func parse(_ reply: RedisReply) -> (key: String, raw: [UInt8])? {
        guard let pair = reply.array, pair.count == 2, let key = pair[0].string, let raw = pair[1].bytes else { return nil }
        return (key, raw)
    }

    /// The delivery tag the script would have recorded `raw` under, if it can be read: a message
    /// that is dead-lettered must leave `unacked` too, or a restore would bring it back.
    static func recordedTag(of raw: [UInt8]) -> String? {
        guard case .object(let envelope)? = try? JSONParser.parse(raw), case .object(let properties)? = envelope["properties"],
              case .string(let tag)? = properties["delivery_tag"] else { return nil }
        return tag
    }
}
