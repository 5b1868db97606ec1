import Celeriac
import CeleriacTestSupport
import Foundation
import Logging
import Synchronization

/// One fault scenario against real processes: a private redis-server, `qworker`s from this
/// build, a load sent with the Swift client, and the counts that say whether anything was lost.
///
/// A test starts workers, sends a load, waits for some progress, inflicts its fault, then calls
/// ``settle(timeout:stall:)`` and ``report(notes:)`` and checks `lost == 0`:
///
/// ```swift
/// let run = try await FaultRun(.killNineWorker)
/// defer { run.close() }
/// let doomed = try run.startWorker("doomed", ["--acks-late"])
/// try await run.send(FaultRun.sleeps(2000, seconds: 0.01))
/// try await run.waitFinished(atLeast: 200)
/// doomed.signal(SIGKILL)
/// try await run.settle()
/// #expect(try await run.report().lost == 0)
/// ```
final class FaultRun: Sendable {
    let fault: Fault
    let server: RedisServer
    let logs: TemporaryDirectory
    /// Sends the load; results disabled on its side, so it holds no subscriptions (the
    /// workers still store every result: that is what the counting reads).
    let client: CeleriacClient
    /// Reads results and queue state.
    let probe: RedisClient
    private let workers = Mutex<[ChildProcess]>([])
    /// Every id the run waits for, with the state it must end in.
    private let expected = Mutex<[String: TaskState]>([:])
    /// Ids already seen in their expected (final) state; never read again.
    private let done = Mutex<Set<String>>([])
    /// Set when a count showed losses: the workers' logs are kept for the post-mortem.
    private let keepLogs = Atomic<Bool>(false)

    /// Starts the Redis and connects the client and the probe.
    /// - Parameter persistentRedis: An append-only file fsynced on every write, so the data
    ///   survive ``RedisServer/restart()``.
    init(_ fault: Fault, persistentRedis: Bool = false) async throws {
        self.fault = fault
        server = try RedisServer.start(persistent: persistentRedis)
        logs = try TemporaryDirectory(prefix: "celeriac-fault-\(fault.rawValue)")
        var config = CeleriacConfig()
        config.brokerURL = server.urlString
        config.resultsDisabled = true
        var logger = Logger(label: "fault-client")
        logger.logLevel = .critical
        client = try await CeleriacClient.connect(config: config, logger: logger)
        probe = try await RedisClient.connect(url: server.url, logger: logger)
    }

    /// Stops every worker (SIGTERM, SIGKILL soon after) and the Redis, and removes the logs
    /// unless something was lost; returns at once.
    func close() {
        for worker in workers.withLock({ $0 }) { worker.stopNow() }
        client.close()
        probe.close()
        server.stop()
        if !keepLogs.load(ordering: .relaxed) { logs.remove() }
    }

    // MARK: - Workers

    /// Starts `qworker` on this Redis at `--loglevel info` (the counting reads its log), with
    /// `flags` added (`--acks-late`, `-c 4`, …).
    @discardableResult
    /// - Parameter node: The node name before `@%h` when it is not `name` (a worker restarted
    ///   under its old node name, as a supervisor does, needs a log of its own).
    func startWorker(_ name: String, _ flags: [String] = [], node: String? = nil) throws -> ChildProcess {
        let worker = try ChildProcess(
            name, executable: TestEnvironment.binDirectory.appendingPathComponent("qworker").path,
            arguments: ["--broker", server.urlString, "-n", "\(node ?? name)@%h", "--loglevel", "info", "--without-mingle"] + flags,
            logDirectory: logs)
        workers.withLock { $0.append(worker) }
        return worker
    }

    /// Waits until `worker` logged that it is consuming.
    func waitReady(_ worker: ChildProcess, timeout: Duration = .seconds(60)) async throws {
        try await poll(timeout: timeout, "\(worker.name) ready") { worker.output.contains(" ready: broker ") }
    }

    /// Everything every worker started by this run printed, by worker name.
    var workerLogs: [(name: String, log: String)] { workers.withLock { $0 }.map { ($0.name, $0.output) } }

    // MARK: - Load

    /// `demo.add(i, i)` × `count`: instant tasks, so the pace is the broker's.
    static func adds(_ count: Int) -> [CeleriacClient.Signature] {
        (0..<count).map { CeleriacClient.Signature("demo.add", args: [.int($0), .int($0)]) }
    }

    /// `demo.sleep(seconds)` × `count`: tasks that are running when a fault strikes.
    static func sleeps(_ count: Int, seconds: Double, options: TaskSendOptions = .init()) -> [CeleriacClient.Signature] {
        (0..<count).map { _ in CeleriacClient.Signature("demo.sleep", args: [.double(seconds)], options: options) }
    }

    /// Publishes `signatures` (in pipelined batches) and waits for each to end in `state`.
    @discardableResult
    func send(_ signatures: [CeleriacClient.Signature], expecting state: TaskState = .success) async throws -> [String] {
        var ids: [String] = []
        ids.reserveCapacity(signatures.count)
        var start = 0
        while start < signatures.count {
            let batch = Array(signatures[start..<min(start + 500, signatures.count)])
            ids += try await client.sendMany(batch).map(\.id)
            start += batch.count
        }
        expect(ids, state)
        return ids
    }

    /// Adds ids the test published by other means (raw messages) to the ones waited for.
    func expect(_ ids: [String], _ state: TaskState) {
        expected.withLock { for id in ids { $0[id] = state } }
    }

    /// Pushes raw bytes onto `queue` as a producer would (LPUSH), for messages no client would send.
    func push(_ raw: [UInt8], queue: String = "celery") async throws {
        _ = try await probe.send(RedisCommand("LPUSH", queue, raw))
    }

    /// The stored result of `id`, if any.
    func meta(of id: String) async throws -> ResultMeta? {
        guard let bytes = try await probe.send(RedisCommand("GET", QueueKeys.resultKey(taskID: id))).bytes else { return nil }
        return try ResultMeta.decode(bytes)
    }

    /// The records of the dead-letter list, oldest first.
    func deadLetters() async throws -> [DeadLetter] {
        let records = try await probe.send(RedisCommand("LRANGE", DeadLetter.listKey, 0, -1)).array ?? []
        return try records.reversed().map { try DeadLetter.decode($0.bytes ?? []) }
    }

    // MARK: - Counting

    /// How many ids reached their expected state so far (reads only the ones not yet done).
    func finished() async throws -> Int {
        let pending = expected.withLock { $0 }.filter { id, _ in !done.withLock { $0.contains(id) } }
        let ids = Array(pending.keys)
        var start = 0
        var newlyDone: [String] = []
        while start < ids.count {
            let chunk = Array(ids[start..<min(start + 1000, ids.count)])
            start += chunk.count
            let reply = try await probe.send(RedisCommand("MGET", arguments: chunk.map { QueueKeys.resultKey(taskID: $0) }))
            for (id, value) in zip(chunk, reply.array ?? []) {
                guard let bytes = value.bytes, let meta = try? ResultMeta.decode(bytes), meta.status == pending[id] else { continue }
                newlyDone.append(id)
            }
        }
        return done.withLock { done in
            done.formUnion(newlyDone)
            return done.count
        }
    }

    /// How many of `ids` reached their expected state.
    func finished(_ ids: [String]) async throws -> Int {
        _ = try await finished()
        return done.withLock { done in ids.filter { done.contains($0) }.count }
    }

    /// Ids of the messages a worker (node name prefix, e.g. `"doomed@"`) holds unacked, from
    /// kombu's `unacked` hash and the owner hash Celeriac workers keep beside it.
    func heldIDs(ownedBy nodePrefix: String) async throws -> [String] {
        let owners = try await probe.send(RedisCommand("HGETALL", Self.unackedOwnerKey)).array ?? []
        var ids: [String] = []
        for i in stride(from: 0, to: owners.count - 1, by: 2) {
            guard let tag = owners[i].string, owners[i + 1].string?.hasPrefix(nodePrefix) == true,
                  let raw = try await probe.send(RedisCommand("HGET", QueueKeys.unacked, tag)).bytes,
                  let entry = try? UnackedEntry.decode(raw), let message = try? TaskMessage.decode(bytes: entry.envelope)
            else { continue }
            ids.append(message.id)
        }
        return ids
    }

    /// Celeriac's delivery tag → holder hash beside kombu's `unacked` (the worker's
    /// `OrphanRecovery.ownerKey`; Python processes ignore it).
    static let unackedOwnerKey = "celeriac.unacked_owner"

    /// The number of ids waited for.
    var sent: Int { expected.withLock { $0.count } }

    /// Waits until at least `count` ids finished: the load is under way.
    func waitFinished(atLeast count: Int, timeout: Duration = .seconds(90)) async throws {
        try await poll(timeout: timeout, "\(count) tasks finished") { try await self.finished() >= count }
    }

    /// Waits until every id finished, or nothing finished for `stall`, or `timeout` passed;
    /// a run that settles short of `sent` has lost tasks, which ``report(notes:)`` shows.
    func settle(timeout: Duration = .seconds(180), stall: Duration = .seconds(45)) async throws {
        let deadline = ContinuousClock.now + timeout
        var last = -1
        var progressAt = ContinuousClock.now
        while ContinuousClock.now < deadline {
            let n = try await finished()
            if n >= sent { return }
            if n != last {
                last = n
                progressAt = .now
            } else if ContinuousClock.now - progressAt > stall {
                return
            }
            try await Task.sleep(for: .milliseconds(250))
        }
    }

    /// Counts, prints the fault's line (and the suite summary when it is the last fault), and
    /// records it in the ledger.
    func report(notes: String = "") async throws -> FaultCount {
        let count = FaultCount(fault: fault, sent: sent, finished: try await finished(),
                               runTwice: WorkerLog.runTwice(in: workerLogs.map(\.log)), notes: notes)
        if count.lost > 0 { keepLogs.store(true, ordering: .relaxed) }
        Self.printLine(count.line)
        if let summary = await FaultLedger.shared.record(count) { Self.printLine(summary) }
        return count
    }

    /// Where the missing tasks are, for a failure message: queue and bookkeeping sizes, a few
    /// missing ids, and the logs' directory.
    func whereabouts() async -> String {
        let missing = expected.withLock { $0.keys }.filter { id in !done.withLock { $0.contains(id) } }.prefix(5)
        var text = "logs in \(logs.path)"
        for (label, command) in [("queue celery", RedisCommand("LLEN", "celery")), ("unacked", RedisCommand("HLEN", QueueKeys.unacked)),
                                 ("dead letters", RedisCommand("LLEN", DeadLetter.listKey))] {
            let n = (try? await probe.send(command))?.int.map(String.init) ?? "?"
            text += "; \(label) \(n)"
        }
        return text + "; missing e.g. \(missing.joined(separator: ", "))"
    }

    // MARK: - Helpers

    /// `12.3 s`.
    static func seconds(_ duration: Duration) -> String {
        String(format: "%.1f s", Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
    }

    /// Polls `condition` every 100 ms (never busy-waits: workers need the CPU).
    func poll(timeout: Duration, _ what: String, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            if try await condition() { return }
            guard ContinuousClock.now < deadline else { throw FaultRunError("\(what): not within \(timeout); \(await whereabouts())") }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Straight to file descriptor 1, unbuffered, so the line is out even if a later test hangs.
    private static func printLine(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}

struct FaultRunError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
