/// The three Lua scripts of Celery 5.7's Redis result backend chord join (`celery/backends/redis.py`),
/// byte for byte: the same SHA1s as Python's (unit-tested), so Swift and Python workers in one
/// cluster run the very same scripts, cached once by Redis, over the same keys.
enum ChordScripts {
    /// `CHORD_PART_RETURN_LUA`: records a header member's result once (`tid:group_index` in `.d`), counts the parts, and claims the join (`SET .c token NX EX`) when the count reaches the size.
    /// SHA1 `b8fc152c83a7e634103ccebd49dcd3146a8f4366`.
    static let partReturn = "\n" + """
    local jkey, tkey, skey, dkey, gkey, ckey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
    local tid, value, ordered, score = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
    local expires, group_expires = tonumber(ARGV[5]), tonumber(ARGV[6])
    local claim_expires = tonumber(ARGV[7])
    local claim_token = ARGV[8]

    -- Prevent late duplicates from recreating chord state after successful cleanup.
    local done_marker = redis.call('GET', ckey)
    if done_marker == 'done' then
        return {-1, 0, 0, 0}
    end

    -- Key the check on the task id and header index, so it doesn't merge two
    -- header entries that share the task id of a reused frozen signature.
    local member = tid .. ':' .. score
    if redis.call('SISMEMBER', dkey, member) == 0 then
        if ordered == '1' then
            redis.call('ZADD', jkey, score, value)
        else
            redis.call('RPUSH', jkey, value)
        end
        redis.call('SADD', dkey, member)
    end
    local readycount
    if ordered == '1' then
        readycount = redis.call('ZCOUNT', jkey, '-inf', '+inf')
    else
        readycount = redis.call('LLEN', jkey)
    end
    if expires > 0 then
        for _, key in ipairs({jkey, tkey, skey, dkey}) do
            redis.call('EXPIRE', key, expires)
        end
        if group_expires > 0 then
            redis.call('EXPIRE', gkey, group_expires)
        end
    end

    local totaldiff = redis.call('GET', tkey)
    local size = redis.call('GET', skey)
    local claimed = 0
    if size and readycount == tonumber(size) + tonumber(totaldiff or 0) then
        if redis.call('SET', ckey, claim_token, 'NX', 'EX', claim_expires) then
            claimed = 1
        end
    end

    return {readycount, totaldiff, size, claimed}
    """ + "\n"

    /// `CHORD_CLAIM_EXTEND_LUA`: extends the claim while it is still this worker's, or takes it back if it lapsed and nobody holds it while the chord's size remains.
    /// SHA1 `dc87180d6bcb7f73c7275eb0fe7a70baf0a8b7c7`.
    static let claimExtend = "\n" + """
    local ckey, skey = KEYS[1], KEYS[2]
    local token = ARGV[1]
    local expires = tonumber(ARGV[2])
    if redis.call('GET', ckey) == token then
        return redis.call('EXPIRE', ckey, expires)
    end
    if not redis.call('GET', ckey) and redis.call('EXISTS', skey) == 1 then
        return redis.call('SET', ckey, token, 'EX', expires, 'NX') and 1 or 0
    end
    return 0
    """ + "\n"

    /// `CHORD_CLEANUP_LUA`: deletes the chord's keys and leaves `.c = done` for late duplicates, if the claim is still this worker's.
    /// SHA1 `59d7aab41242d82196947ba8926cab712416da4f`.
    static let cleanup = "\n" + """
    local ckey = KEYS[1]
    local jkey = KEYS[2]
    local tkey = KEYS[3]
    local skey = KEYS[4]
    local dkey = KEYS[5]
    local token = ARGV[1]
    local done_expires = tonumber(ARGV[2])

    if redis.call('GET', ckey) == token then
        redis.call('DEL', jkey, tkey, skey, dkey)
        if done_expires and done_expires > 0 then
            redis.call('SET', ckey, 'done', 'EX', done_expires)
        end
        return 1
    end
    return 0
    """ + "\n"

    /// `set_chord_size`, as a client sends it before a header's last member: `DEL .c` (a claim or
    /// `done` left by an earlier chord of the same id), then `SET .s size`, with `EX expires`
    /// unless expiry is off (0).
    static func setSize(of keys: ChordJoin.Keys, to size: Int, expires: Int) -> [RedisCommand] {
        var set: [any RedisArgument] = [keys.size, size]
        if expires > 0 { set += ["EX", expires] }
        return [RedisCommand("DEL", keys.claim), RedisCommand("SET", arguments: set)]
    }
}
