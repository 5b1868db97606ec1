/// Redis key names kombu derives for queues, priorities and bindings.
///
/// kombu's Redis transport emulates AMQP priorities with one list per priority step and
/// joins names with the two control bytes `\x06\x16`; getting either wrong means Python
/// workers never see our messages (or we never see theirs).
public enum QueueKeys {
    /// kombu's separator: ASCII ACK + SYN.
    public static let separator = "\u{06}\u{16}"

    /// kombu's `priority_steps`.
    public static let prioritySteps = [0, 3, 6, 9]

    /// The step a message priority lands in: clamped to 0…9, then the largest step ≤ it.
    /// On Redis a *lower* step is consumed first (the opposite of AMQP).
    public static func priorityStep(_ priority: Int) -> Int {
        let p = min(max(priority, 0), 9)
        return prioritySteps.last { $0 <= p } ?? 0
    }

    /// The list a message with `priority` is pushed to: the bare queue name for step 0,
    /// otherwise `queue + SEP + step` (priority 5 → `"celery\u{06}\u{16}3"`).
    public static func list(queue: String, priority: Int) -> String {
        let step = priorityStep(priority)
        return step == 0 ? queue : queue + separator + String(step)
    }

    /// The keys to `BRPOP`, step-major as kombu orders them: `q1 q2 q1␟3 q2␟3 … q2␟9`.
    public static func consumeOrder(queues: [String]) -> [String] {
        var keys: [String] = []
        keys.reserveCapacity(queues.count * prioritySteps.count)
        for step in prioritySteps {
            for q in queues { keys.append(step == 0 ? q : q + separator + String(step)) }
        }
        return keys
    }

    /// The queue a priority list belongs to: `celery\x06\x163` → `celery`.
    public static func queueName(ofList key: String) -> String {
        guard let range = key.range(of: separator) else { return key }
        return String(key[..<range.lowerBound])
    }

    /// A member of `_kombu.binding.<exchange>`: `routing_key SEP pattern SEP queue`.
    public static func bindingMember(routingKey: String, pattern: String = "", queue: String) -> String {
        routingKey + separator + pattern + separator + queue
    }

    /// Splits a binding member back into its parts; `nil` if it has no two separators.
    public static func parseBindingMember(_ member: String) -> (routingKey: String, pattern: String, queue: String)? {
        let parts = member.split(separator: separator, maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        return (String(parts[0]), String(parts[1]), String(parts[2]))
    }

    /// `_kombu.binding.<exchange>`: the set of routes for an exchange.
    public static func bindingKey(exchange: String) -> String { "_kombu.binding." + exchange }

    /// `_kombu.binding_permanent.<exchange>`: marks tables of queues without x-expires.
    public static func permanentBindingKey(exchange: String) -> String { "_kombu.binding_permanent." + exchange }

    /// Hash of in-flight envelopes keyed by delivery tag (see ``UnackedEntry``).
    public static let unacked = "unacked"
    /// Sorted set of delivery tags scored by receipt time (epoch seconds, float).
    public static let unackedIndex = "unacked_index"
    /// Lock held while restoring unacked messages.
    public static let unackedMutex = "unacked_mutex"

    /// The result backend key (and pub/sub channel) for a task id.
    public static func resultKey(taskID: String) -> String { "celery-task-meta-" + taskID }
}
