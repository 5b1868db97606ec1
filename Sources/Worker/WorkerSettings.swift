public import Celeriac
public import Foundation

/// Everything a ``Worker`` needs to know before it starts, resolved from flags, config and
/// environment by ``WorkerCommand``.
public struct WorkerSettings: Sendable {
    public var brokerURL: RedisURL
    /// `nil` when results are disabled.
    public var resultBackendURL: RedisURL?
    /// Queues consumed, in priority order for ties (Celery's `-Q`).
    public var queues: [String]
    /// Tasks run at once (Celery's `-c`).
    public var concurrency: Int
    /// Messages held per unit of concurrency, running or waiting (`worker_prefetch_multiplier`).
    public var prefetchMultiplier: Int
    /// The node name, `celery@host` by default.
    public var nodeName: String
    /// Seconds results live (`result_expires`).
    public var resultExpires: Int
    /// The list undecodable messages are moved to, with the reason.
    public var deadLetterKey: String = DeadLetter.listKey
    /// Publish task events (`-E`, `worker_send_task_events`); worker heartbeats are always sent.
    public var sendTaskEvents: Bool = false
    /// Where revoked ids survive a restart (`--statedb`); `nil` keeps them in memory only.
    public var stateDB: String? = nil
    /// Ask running workers for their revoked ids at start (Celery's mingle; `--without-mingle` turns it off).
    public var mingle: Bool = true
    /// `task_acks_late` for every task (a task's own `acks_late` option also turns it on).
    public var acksLate: Bool = false
    /// `--time-limit` / `--soft-time-limit` for tasks whose messages carry none.
    public var timeLimit = TimeLimit()
    /// Where task bodies run (`--pool`): Swift tasks in this process, or child processes.
    public var pool: WorkerPoolKind = .async
    /// `--max-tasks-per-child`: a pool process is replaced after this many tasks (process pool only).
    public var maxTasksPerChild: Int? = nil
    /// How pool processes are started: the running binary by default.
    public var poolChild: PoolChildCommand = .currentProcess
    /// `task_reject_on_worker_lost` for every task (with acks_late, a task whose pool process
    /// died goes back to its queue instead of failing with `WorkerLostError`).
    public var rejectOnWorkerLost: Bool = false
    /// How many times such a message goes back before it is dead-lettered as a poison message.
    public var workerLostRedeliveries: Int = 3
    /// `worker_eta_task_limit`: the most messages held while ETA messages wait (``EtaTaskLimit``);
    /// `nil` is no limit, as in Celery.
    public var etaTaskLimit: Int? = nil
    /// How long without a liveness refresh before peers put back what this worker holds
    /// (`broker_transport_options.visibility_timeout`, ``LivenessWindow``).
    public var liveness = LivenessWindow()
    /// Seconds a BRPOP blocks while idle; bounds how fast the consumer notices a shutdown.
    public var pollTimeout: Int = 1
    /// `task_default_queue`: where a workflow step this worker sends goes when its options name
    /// no queue (Celery's default routing, without `task_routes`).
    public var taskDefaultQueue = "celery"
    /// `task_inherit_parent_priority`: chain steps and callbacks get the parent's priority.
    public var inheritParentPriority = false
    /// How chords join (`result_chord_ordered`, `result_chord_expires`, `result_chord_join_timeout`).
    public var chordJoin = ChordJoin.Settings()

    public init(brokerURL: RedisURL, resultBackendURL: RedisURL?, queues: [String] = ["celery"], concurrency: Int = 4,
                prefetchMultiplier: Int = 4, nodeName: String = WorkerSettings.defaultNodeName(), resultExpires: Int = 86_400) {
        self.brokerURL = brokerURL
        self.resultBackendURL = resultBackendURL
        self.queues = queues
        self.concurrency = concurrency
        self.prefetchMultiplier = prefetchMultiplier
        self.nodeName = nodeName
        self.resultExpires = resultExpires
    }

    /// `--concurrency` of the async pool when neither flag nor config sets it.
    public static let defaultAsyncConcurrency = 32

    /// The most messages held at once.
    public var prefetchLimit: Int { concurrency * prefetchMultiplier }

    /// `celery@<hostname>`, as Celery names a worker by default.
    public static func defaultNodeName() -> String { "celery@" + ProcessInfo.processInfo.hostName }

    /// Expands Celery's node-name templates: `%h` host name, `%n` its first label, `%d` the domain,
    /// `%%` a percent sign; a name without `@` gets `@<hostname>` appended.
    public static func expandNodeName(_ template: String, hostname: String = ProcessInfo.processInfo.hostName) -> String {
        let short = hostname.split(separator: ".", maxSplits: 1).first.map(String.init) ?? hostname
        let domain = hostname.contains(".") ? String(hostname.split(separator: ".", maxSplits: 1)[1]) : ""
        var out = ""
        var chars = template.makeIterator()
        while let c = chars.next() {
            guard c == "%" else { out.append(c); continue }
            switch chars.next() {
            case "h": out += hostname
            case "n": out += short
            case "d": out += domain
            case "%": out += "%"
            case let other?: out += "%" + String(other)
            case nil: out += "%"
            }
        }
        return out.contains("@") ? out : out + "@" + hostname
    }
}
