/// Chords on Redis exactly as Celery 5.7's Redis result backend joins them: the same keys and
/// the same three scripts (``ChordScripts``), so members on Swift and Python workers count into
/// one join and its body is published once.
extension RedisBrokerDriver {
    public func setChordSize(groupID: String, size: Int, expires: Int) async {
        guard let client = backend?.client else { return }
        let keys = ChordJoin.Keys(groupID: groupID)
        var set = [keys.size, String(size)]
        if expires > 0 { set += ["EX", String(expires)] }
        await retrying("set the size of chord \(groupID)") {
            _ = try await client.pipeline([RedisCommand("DEL", keys.claim), RedisCommand("SET", arguments: set)])
        }
    }

    public func recordChordPart(_ part: ChordPart) async -> ChordPartCount? {
        guard let client = backend?.client else { return nil }
        // The member's own result goes first, as Celery stores it before returning the part.
        await flushed()
        let keys = ChordJoin.Keys(groupID: part.groupID)
        let s = part.settings
        let command = RedisCommand("EVAL", ChordScripts.partReturn, 6, keys.parts, keys.added, keys.size, keys.seen, keys.group, keys.claim,
                                   part.taskID, part.entry, s.ordered ? "1" : "0", part.score, s.expires, s.groupExpires,
                                   s.claimExpires, part.claimToken)
        var count: ChordPartCount?
        await retrying("record a part of chord \(part.groupID)") {
            let reply = try await client.send(command)
            if let message = reply.errorMessage { throw RedisError(.server, message) }
            guard let values = reply.array, values.count == 4 else { throw RedisError(.server, "chord part script replied \(reply)") }
            count = ChordPartCount(ready: values[0].int ?? 0, added: values[1].int ?? 0, size: values[2].int, claimed: values[3].int == 1)
        }
        return count
    }

    public func chordParts(groupID: String, ordered: Bool) async -> [[UInt8]]? {
        guard let client = backend?.client else { return nil }
        let keys = ChordJoin.Keys(groupID: groupID)
        var parts: [[UInt8]]?
        await retrying("read the parts of chord \(groupID)") {
            let reply = try await client.send(ordered ? RedisCommand("ZRANGE", keys.parts, 0, -1) : RedisCommand("LRANGE", keys.parts, 0, -1))
            if let message = reply.errorMessage { throw RedisError(.server, message) }
            parts = reply.array?.compactMap(\.bytes)
        }
        return parts
    }

    public func extendChordClaim(groupID: String, token: String, seconds: Int) async -> Bool {
        guard let client = backend?.client else { return false }
        let keys = ChordJoin.Keys(groupID: groupID)
        var extended = false
        await retrying("extend the claim on chord \(groupID)") {
            let reply = try await client.send(RedisCommand("EVAL", ChordScripts.claimExtend, 2, keys.claim, keys.size, token, seconds))
            if let message = reply.errorMessage { throw RedisError(.server, message) }
            extended = (reply.int ?? 0) != 0
        }
        return extended
    }

    public func finishChord(groupID: String, token: String, doneExpires: Int) async -> Bool {
        guard let client = backend?.client else { return false }
        let keys = ChordJoin.Keys(groupID: groupID)
        var cleaned = false
        await retrying("clean up chord \(groupID)") {
            let reply = try await client.send(RedisCommand("EVAL", ChordScripts.cleanup, 5, keys.claim, keys.parts, keys.added, keys.size, keys.seen,
                                                          token, doneExpires))
            if let message = reply.errorMessage { throw RedisError(.server, message) }
            cleaned = reply.int == 1
        }
        return cleaned
    }

    public func abandonChord(groupID: String) async {
        guard let client = backend?.client else { return }
        await retrying("drop the size of failed chord \(groupID)") {
            _ = try await client.send(RedisCommand("DEL", ChordJoin.Keys(groupID: groupID).size))
        }
    }
}
