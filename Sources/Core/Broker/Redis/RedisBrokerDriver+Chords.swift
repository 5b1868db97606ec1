/// Chords on Redis exactly as Celery 5.7's Redis result backend joins them: the same keys and
/// the same three scripts (``ChordScripts``), so members on Swift and Python workers count into
/// one join and its body is published once.
extension RedisBrokerDriver {
    public func setChordSize(groupID: String, size: Int, expires: Int) async {
        let commands = ChordScripts.setSize(of: ChordJoin.Keys(groupID: groupID), to: size, expires: expires)
        _ = await onResultStore("set the size of chord \(groupID)", commands)
    }

    public func recordChordPart(_ part: ChordPart) async -> ChordPartCount? {
        guard backend != nil else { return nil }
        // The member's own result goes first, as Celery stores it before returning the part.
        await flushed()
        let keys = ChordJoin.Keys(groupID: part.groupID)
        let s = part.settings
        let reply = await onResultStore(
            "record a part of chord \(part.groupID)",
            [RedisCommand("EVAL", ChordScripts.partReturn, 6, keys.parts, keys.added, keys.size, keys.seen, keys.group, keys.claim,
                          part.taskID, part.entry, s.ordered ? "1" : "0", part.score, s.expires, s.groupExpires, s.claimExpires, part.claimToken)])
        guard let values = reply?.array, values.count == 4 else { return nil }
        return ChordPartCount(ready: values[0].int ?? 0, added: values[1].int ?? 0, size: values[2].int, claimed: values[3].int == 1)
    }

    public func chordParts(groupID: String, ordered: Bool) async -> [[UInt8]]? {
        let key = ChordJoin.Keys(groupID: groupID).parts
        let reply = await onResultStore("read the parts of chord \(groupID)",
                                        [ordered ? RedisCommand("ZRANGE", key, 0, -1) : RedisCommand("LRANGE", key, 0, -1)])
        return reply?.array?.compactMap(\.bytes)
    }

    public func extendChordClaim(groupID: String, token: String, seconds: Int) async -> Bool {
        let keys = ChordJoin.Keys(groupID: groupID)
        let reply = await onResultStore("extend the claim on chord \(groupID)",
                                        [RedisCommand("EVAL", ChordScripts.claimExtend, 2, keys.claim, keys.size, token, seconds)])
        return (reply?.int ?? 0) != 0
    }

    public func finishChord(groupID: String, token: String, doneExpires: Int) async -> Bool {
        let keys = ChordJoin.Keys(groupID: groupID)
        let reply = await onResultStore("clean up chord \(groupID)",
                                        [RedisCommand("EVAL", ChordScripts.cleanup, 5, keys.claim, keys.parts, keys.added, keys.size, keys.seen,
                                                      token, doneExpires)])
        return reply?.int == 1
    }

    public func abandonChord(groupID: String) async {
        _ = await onResultStore("drop the size of failed chord \(groupID)", [RedisCommand("DEL", ChordJoin.Keys(groupID: groupID).size)])
    }

    /// Sends `commands` (pipelined) to the result store, retried through outages and refused
    /// writes as every write that must not be lost; the last reply, or `nil` without a result
    /// store or after an error other than those (logged).
    private func onResultStore(_ what: String, _ commands: [RedisCommand]) async -> RedisReply? {
        guard let client = backend?.client else { return nil }
        var last: RedisReply?
        await retrying(what) {
            let replies = try await client.pipeline(commands)
            for reply in replies { if let message = reply.errorMessage { throw RedisError(.server, message) } }
            last = replies.last
        }
        return last
    }
}
