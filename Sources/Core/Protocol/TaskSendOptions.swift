public import Foundation

/// What `apply_async` lets a caller choose, for ``TaskMessage/make(name:args:kwargs:options:origin:now:newID:)``.
///
/// Defaults match Celery's: queue `celery` on the default exchange, priority 0, no limits,
/// results not ignored.
public struct TaskSendOptions: Sendable {
    /// Use this id instead of a fresh one.
    public var taskID: String?
    /// Seconds from `now` until the task may run; becomes `eta` (0 means none, as in Celery).
    public var countdown: Double?
    /// Earliest run time. Takes precedence over ``countdown``.
    public var eta: Date?
    /// Absolute expiry time. Takes precedence over ``expiresIn``.
    public var expires: Date?
    /// Expiry in seconds from `now` (Celery's `expires=60`).
    public var expiresIn: Double?
    /// Destination queue; it is also the routing key, since tasks use the default exchange.
    public var queue: String?
    /// Message priority 0…9 (on Redis: lower runs first). `nil` sends 0.
    public var priority: Int?
    /// `time_limit` in seconds.
    public var timeLimit: Double?
    /// `soft_time_limit` in seconds.
    public var softTimeLimit: Double?
    /// `ignore_result`.
    public var ignoreResult: Bool
    /// Mimic `app.send_task(name, ...)` instead of `task.apply_async(...)`: `ignore_result`
    /// is sent as `null` and `argsrepr` as a list repr (`[7, 8]` rather than `(7, 8)`).
    public var byName: Bool
    /// Custom headers, merged flat into the message headers after Celery's own.
    public var headers: JSONObject
    /// `reply_to`: the client's result consumer id, or `""`.
    public var replyTo: String
    /// Display name used in events instead of the task name.
    public var shadow: String?
    /// The parent task's id (for tasks sent from within a task).
    public var parentID: String?
    /// The workflow root's id; `nil` makes the task its own root.
    public var rootID: String?
    /// How many times this task has been retried already.
    public var retries: Int
    /// Group id, for group and chord members.
    public var group: String?
    /// Position within the group.
    public var groupIndex: Int?
    /// `link` signatures (list of signature dicts) or `null`.
    public var callbacks: JSONValue
    /// `link_error` signatures or `null`.
    public var errbacks: JSONValue
    /// Remaining chain, next step *last*, or `null`.
    public var chain: JSONValue
    /// Chord body signature or `null`.
    public var chord: JSONValue

    public init(
        taskID: String? = nil, countdown: Double? = nil, eta: Date? = nil, expires: Date? = nil,
        expiresIn: Double? = nil, queue: String? = nil, priority: Int? = nil,
        timeLimit: Double? = nil, softTimeLimit: Double? = nil, ignoreResult: Bool = false,
        byName: Bool = false, headers: JSONObject = [:], replyTo: String = "", shadow: String? = nil,
        parentID: String? = nil, rootID: String? = nil, retries: Int = 0, group: String? = nil,
        groupIndex: Int? = nil, callbacks: JSONValue = .null, errbacks: JSONValue = .null,
        chain: JSONValue = .null, chord: JSONValue = .null
    ) {
        self.taskID = taskID
        self.countdown = countdown
        self.eta = eta
        self.expires = expires
        self.expiresIn = expiresIn
        self.queue = queue
        self.priority = priority
        self.timeLimit = timeLimit
        self.softTimeLimit = softTimeLimit
        self.ignoreResult = ignoreResult
        self.byName = byName
        self.headers = headers
        self.replyTo = replyTo
        self.shadow = shadow
        self.parentID = parentID
        self.rootID = rootID
        self.retries = retries
        self.group = group
        self.groupIndex = groupIndex
        self.callbacks = callbacks
        self.errbacks = errbacks
        self.chain = chain
        self.chord = chord
    }
}
