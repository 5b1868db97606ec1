
/// Takes a batch of messages off the queue lists and records them as held, in one atomic step.
///
/// kombu pops one message per BRPOP and then records it in `unacked` with a second round trip,
/// so a worker killed between the two loses that message, and every message costs two round
/// trips. This script pops up to `count` messages (lists in consume order, stopping at about a megabyte) and
/// writes the same bookkeeping kombu writes — `unacked_index` score, the `unacked` entry
/// `[envelope, exchange, routing_key]` — plus Celeriac's owner record, before it returns. A message
/// is therefore never off its list without being recorded, and a busy worker pays one round trip
/// per batch. Python workers read the bookkeeping unchanged.
///
/// A message the script cannot parse is returned unrecorded with an empty tag; the worker
/// dead-letters it, as it would after a BRPOP.
///
/// A reply lost with the connection would strand the batch (recorded as held by a live worker,
/// so nobody restores it). Each call therefore carries a token, and the script keeps its last
/// non-empty batch under that token in the worker's last-pop list; the worker repeats a call
/// whose reply it lost with the same token and gets the same batch back instead of a new one.
/// A worker keeps up to two calls in flight (``Worker/reservationsInFlight``), on alternate
/// lanes with a last-pop list each, so one outage can cost it both replies and still lose none.
package enum MessageReservation {
    /// KEYS = lists in consume order…, unacked_index, unacked, owner hash, last-pop list;
    /// ARGV = count, now (seconds since 1970), owner, token.
    /// Returns a flat array of (list key, envelope, delivery tag or "") triples.
    package static let script = """
        local lists = #KEYS - 4
        local last = KEYS[lists + 4]
        if redis.call('LINDEX', last, 0) == ARGV[4] then
          return redis.call('LRANGE', last, 1, -1)
        end
        local want = tonumber(ARGV[1])
        -- Library functions as locals: a global lookup per call showed in the script's time.
        local find, match, sub = string.find, string.match, string.sub
        -- The end of the last plain occurrence of pat in raw at or after from.
        local function lastEndFrom(raw, pat, from)
          local at = nil
          while true do
            local _, e = find(raw, pat, from, true)
            if not e then return at end
            at, from = e, e + 1
          end
        end
        -- The end of the last plain occurrence of pat in raw. The fields read here sit in the
        -- properties, which kombu writes last, so the search starts near the end and covers
        -- the whole message only when the tail has no occurrence (a later occurrence than the
        -- last one in the tail cannot exist). A big argument then costs no scan per field.
        local function lastEnd(raw, pat, tail)
          if tail > 1 then
            local e = lastEndFrom(raw, pat, tail)
            if e then return e end
          end
          return lastEndFrom(raw, pat, 1)
        end
        -- A string field read without decoding the JSON: after the last `"name": "` (properties
        -- come last in kombu's envelope; inside a JSON string that text is always escaped), the
        -- text up to the next quote, in one anchored match that also refuses control characters
        -- and backslashes. nil when absent or when the value needs unescaping: cjson decides then.
        local function field(raw, spaced, compact, tail)
          local e = lastEnd(raw, spaced, tail) or lastEnd(raw, compact, tail)
          if not e then return nil end
          return match(raw, '^([^"\\\\%c]*)"', e + 1)
        end
        local TAG, TAG_COMPACT = '"delivery_tag": "', '"delivery_tag":"'
        local EXCHANGE, EXCHANGE_COMPACT = '"exchange": "', '"exchange":"'
        local KEY, KEY_COMPACT = '"routing_key": "', '"routing_key":"'
        -- How kombu (and Celeriac) end every message: the properties' last four fields, then the
        -- envelope's end. One find and one anchored match read all three fields of such a
        -- message; anything else (other spellings, escapes, a look-alike object nested earlier,
        -- which cannot reach the message's end) takes the field-by-field search below.
        local PROPERTIES = '"delivery_info": {"exchange": "'
        local PROPERTIES_TO_END = '^"delivery_info": {"exchange": "([^"\\\\%c]*)", "routing_key": "([^"\\\\%c]*)"}, '
          .. '"priority": [^,}]*, "body_encoding": "base64", "delivery_tag": "([^"\\\\%c]*)"}}%s*$'
        -- The delivery tag, and the exchange and routing key as JSON string contents.
        local function parsed(raw)
          local tail = #raw - 640
          local at = find(raw, PROPERTIES, tail > 1 and tail or 1, true)
          if at then
            local exchange, key, tag = match(raw, PROPERTIES_TO_END, at)
            if tag then return tag, exchange, key end
          end
          local tag = field(raw, TAG, TAG_COMPACT, tail)
          local exchange = field(raw, EXCHANGE, EXCHANGE_COMPACT, tail)
          local key = field(raw, KEY, KEY_COMPACT, tail)
          if tag and exchange and key then return tag, exchange, key end
          local ok, m = pcall(cjson.decode, raw)
          if not (ok and type(m) == 'table' and type(m.properties) == 'table') then return nil end
          local p = m.properties
          local info = type(p.delivery_info) == 'table' and p.delivery_info or {}
          if type(p.delivery_tag) ~= 'string' or p.delivery_tag == '' then return nil end
          return p.delivery_tag, sub(cjson.encode(type(info.exchange) == 'string' and info.exchange or ''), 2, -2),
                 sub(cjson.encode(type(info.routing_key) == 'string' and info.routing_key or ''), 2, -2)
        end
        local out, scores, entries, owners = {}, {}, {}, {}
        -- One by one, so a batch of big messages stops at about a megabyte: the script copies
        -- each message into its unacked entry and the last-pop list, and a hundred 1 MB messages
        -- at once would stall Redis for everyone. (Popping in chunks measured no faster.)
        local bytes = 0
        for i = 1, lists do
          while want > 0 and bytes < 1048576 do
            local raw = redis.call('RPOP', KEYS[i])
            if not raw then break end
            want = want - 1
            bytes = bytes + #raw
            local tag, exchange, key = parsed(raw)
            if tag and tag ~= '' then
              scores[#scores + 1] = ARGV[2]
              scores[#scores + 1] = tag
              entries[#entries + 1] = tag
              entries[#entries + 1] = '[' .. raw .. ', "' .. exchange .. '", "' .. key .. '"]'
              owners[#owners + 1] = tag
              owners[#owners + 1] = ARGV[3]
            else
              tag = ''
            end
            out[#out + 1] = KEYS[i]
            out[#out + 1] = raw
            out[#out + 1] = tag
          end
        end
        if #scores > 0 then
          redis.call('ZADD', KEYS[lists + 1], unpack(scores))
          redis.call('HSET', KEYS[lists + 2], unpack(entries))
          redis.call('HSET', KEYS[lists + 3], unpack(owners))
        end
        if #out > 0 then
          redis.call('DEL', last)
          redis.call('RPUSH', last, ARGV[4], unpack(out))
          redis.call('PEXPIRE', last, 86400000)
        end
        return out
        """

    /// The worker's last-pop list of one lane: the token of the lane's last non-empty
    /// reservation, then the batch. A worker with two reservations in flight sends them on
    /// alternate lanes, so a lost connection that took both replies can fetch each again.
    package static func lastPopKey(owner: String, lane: Int = 0) -> String {
        lane == 0 ? "celeriac.last_pop." + owner : "celeriac.last_pop.\(lane)." + owner
    }

    /// The script call reserving up to `count` messages from `lists` (in consume order); `token`
    /// names this call (fresh for each, the same when repeating one whose reply was lost), and
    /// `lane` picks the last-pop list that keeps its batch for such a repeat.
    package static func command(lists: [String], count: Int, now: Double, owner: String, token: String, lane: Int = 0) -> RedisCommand {
        var arguments: [any RedisArgument] = [script, lists.count + 4]
        for list in lists { arguments.append(list) }
        arguments.append(QueueKeys.unackedIndex)
        arguments.append(QueueKeys.unacked)
        arguments.append(OrphanRecovery.ownerKey)
        arguments.append(lastPopKey(owner: owner, lane: lane))
        arguments.append(count)
        arguments.append(now)
        arguments.append(owner)
        arguments.append(token)
        return RedisCommand("EVAL", arguments: arguments)
    }

    /// Reads the script's reply.
    package static func parse(_ reply: RedisReply) -> [ReservedMessage] {
        guard let items = reply.array else { return [] }
        var out: [ReservedMessage] = []
        out.reserveCapacity(items.count / 3)
        var i = 0
        while i + 2 < items.count {
            defer { i += 3 }
            guard let key = items[i].string, let raw = items[i + 1].bytes else { continue }
            let tag = items[i + 2].string ?? ""
            out.append(ReservedMessage(listKey: key, raw: raw, recordedTag: tag.isEmpty ? nil : tag))
        }
        return out
    }
}
