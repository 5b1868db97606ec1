import Celeriac

/// Chords in memory: what ``ChordScripts`` do to Redis, done to the store's ``InMemoryBroker/Chord``
/// in one step each (as each script is atomic in Redis); claims do not lapse, having no clock.
extension InMemoryBrokerDriver {
    func setChordSize(groupID: String, size: Int, expires: Int) async {
        await flushed()
        store.mutate { $0.setChordSize(groupID, size) }
    }

    func recordChordPart(_ part: ChordPart) async -> ChordPartCount? {
        guard storesResults else { return nil }
        await flushed()
        return store.mutate { s in
            var chord = s.chords[part.groupID] ?? InMemoryBroker.Chord()
            if chord.claim == "done" { return ChordPartCount(ready: -1, added: 0, size: nil, claimed: false) }
            let member = part.taskID + ":" + part.score
            let counted = !chord.seen.contains(member)
            if counted {
                let score = part.groupIndex.map(Double.init) ?? .infinity
                chord.parts.append((score, part.entry))
                if part.settings.ordered {
                    // A sorted set: by score, ties by the entry's bytes, as Redis orders them.
                    chord.parts.sort { $0.score != $1.score ? $0.score < $1.score : $0.entry.lexicographicallyPrecedes($1.entry) }
                }
                chord.seen.insert(member)
            }
            var claimed = false
            if let size = chord.size, chord.parts.count == size + chord.added, chord.claim == nil {
                chord.claim = part.claimToken
                claimed = true
            }
            s.chords[part.groupID] = chord
            s.log.append(.chordPartRecorded(groupID: part.groupID, taskID: part.taskID, counted: counted))
            return ChordPartCount(ready: chord.parts.count, added: chord.added, size: chord.size, claimed: claimed)
        }
    }

    func chordParts(groupID: String, ordered: Bool) async -> [[UInt8]]? {
        store.state.withLock { $0.chords[groupID]?.parts.map(\.entry) ?? [] }
    }

    func extendChordClaim(groupID: String, token: String, seconds: Int) async -> Bool {
        store.mutate { s in
            guard let chord = s.chords[groupID] else { return false }
            if chord.claim == token { return true }
            if chord.claim == nil, chord.size != nil {
                s.chords[groupID]?.claim = token
                return true
            }
            return false
        }
    }

    func finishChord(groupID: String, token: String, doneExpires: Int) async -> Bool {
        store.mutate { s in
            guard s.chords[groupID]?.claim == token else { return false }
            var done = InMemoryBroker.Chord()
            done.claim = "done"
            s.chords[groupID] = done
            s.log.append(.chordFinished(groupID: groupID))
            return true
        }
    }

    func abandonChord(groupID: String) async {
        store.mutate { s in
            s.chords[groupID]?.size = nil
            s.log.append(.chordAbandoned(groupID: groupID))
        }
    }
}
