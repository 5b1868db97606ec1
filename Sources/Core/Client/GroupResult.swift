/// A handle on a group's results, as Celery's `GroupResult`: its id and its members' results.
///
/// A group has no result of its own; ``save()`` stores its member list as Celery does
/// (`celery-taskset-meta-<id>`: `{"result": [[id, null], [member tuples]]}`, SETEX and PUBLISH),
/// so ``CeleriacClient/restoreGroup(id:)`` or Python's `GroupResult.restore(id)` finds it again.
public struct GroupResult: Sendable {
    public let id: String
    public let results: [AsyncResult]
    let client: CeleriacClient

    init(id: String, results: [AsyncResult], client: CeleriacClient) {
        self.id = id
        self.results = results
        self.client = client
    }

    /// Waits for every member and returns their values in order.
    /// - Throws: the first failing member's ``TaskFailedError``, ``ResultTimeoutError``.
    public func get(timeout: Duration? = nil) async throws -> [JSONValue] {
        var values: [JSONValue] = []
        values.reserveCapacity(results.count)
        for result in results { values.append(try await result.get(timeout: timeout)) }
        return values
    }

    /// Waits for every member and decodes their values.
    public func get<R: Decodable>(as type: R.Type, timeout: Duration? = nil) async throws -> [R] {
        try await get(timeout: timeout).map { try JSONValueDecoder().decode(R.self, from: $0) }
    }

    /// The result tuple Celery stores for it.
    public var tuple: ResultTuple {
        .group(id: id, parent: nil, members: results.map { .task(id: $0.id, parent: nil) })
    }

    /// Stores the group (Celery's `GroupResult.save()`), for ``CeleriacClient/restoreGroup(id:)``.
    public func save() async throws {
        guard let backend = client.backend else { throw ResultsDisabledError() }
        try await backend.saveGroup(id: id, tuple: tuple)
    }
}

extension CeleriacClient {
    /// A saved group (Celery's `GroupResult.restore(id)`), or `nil` when none is stored.
    public func restoreGroup(id: String) async throws -> GroupResult? {
        guard let backend else { throw ResultsDisabledError() }
        guard case .group(let gid, _, let members)? = try await backend.savedGroup(id: id) else { return nil }
        return GroupResult(id: gid, results: members.map { AsyncResult(id: $0.id, client: self) }, client: self)
    }
}

extension RedisResultBackend {
    /// `_save_group`: `{"result": tuple}` at the group's key, with the results' expiry, announced
    /// on the key's channel.
    func saveGroup(id: String, tuple: ResultTuple) async throws(RedisError) {
        let key = ChordJoin.Keys(groupID: id).group
        let value = JSONValue.object(["result": tuple.jsonValue]).serialized()
        _ = try await client.transaction([RedisCommand("SETEX", key, expires, value), RedisCommand("PUBLISH", key, value)])
    }

    /// The saved group's tuple (`_restore_group`), or `nil`.
    func savedGroup(id: String) async throws -> ResultTuple? {
        let reply = try await client.send(RedisCommand("GET", ChordJoin.Keys(groupID: id).group))
        guard let bytes = reply.bytes, let result = try JSONParser.parse(bytes)["result"] else { return nil }
        return ResultTuple(json: result)
    }

    /// `set_chord_size` (``ChordScripts/setSize(of:to:expires:)``), with the results' expiry.
    func setChordSize(groupID: String, size: Int) async throws(RedisError) {
        _ = try await client.pipeline(ChordScripts.setSize(of: ChordJoin.Keys(groupID: groupID), to: size, expires: expires))
    }
}
