/// Redis names used by Celery's remote control ("pidbox") mailbox.
///
/// All take the mailbox namespace, `celery` unless an app changes `control_exchange`.
/// Broadcast commands travel over pub/sub (fanout exchange `celery.pidbox`); replies are
/// LPUSHed to a per-client list found through the reply exchange's binding set, and a worker
/// drops a reply when no binding matches (SPEC e, f.2), so clients must register theirs.
public enum ControlNames {
    /// The default mailbox namespace.
    public static let defaultNamespace = "celery"

    /// The broadcast (fanout) exchange: `celery.pidbox`.
    public static func broadcastExchange(namespace: String = defaultNamespace) -> String {
        namespace + ".pidbox"
    }

    /// The pub/sub channel commands are PUBLISHed on and workers PSUBSCRIBE to: `/0.celery.pidbox`.
    /// The routing key is empty, so there is no `/<key>` suffix.
    public static func broadcastChannel(db: Int, namespace: String = defaultNamespace) -> String {
        "/\(db)." + broadcastExchange(namespace: namespace)
    }

    /// The direct exchange replies are routed through: `reply.celery.pidbox`.
    public static func replyExchange(namespace: String = defaultNamespace) -> String {
        "reply." + namespace + ".pidbox"
    }

    /// A client's reply list: `<oid>.reply.celery.pidbox`; its routing key is the oid.
    public static func replyQueue(oid: String, namespace: String = defaultNamespace) -> String {
        oid + "." + replyExchange(namespace: namespace)
    }

    /// The binding set of the reply exchange: `_kombu.binding.reply.celery.pidbox`.
    public static func replyBindingSet(namespace: String = defaultNamespace) -> String {
        QueueKeys.bindingKey(exchange: replyExchange(namespace: namespace))
    }

    /// The member a client adds to ``replyBindingSet(namespace:)`` before publishing:
    /// `<oid>\x06\x16\x06\x16<oid>.reply.celery.pidbox`.
    public static func replyBindingMember(oid: String, namespace: String = defaultNamespace) -> String {
        QueueKeys.bindingMember(routingKey: oid, queue: replyQueue(oid: oid, namespace: namespace))
    }

    /// A worker's own pidbox queue, declared and bound but never written on Redis:
    /// `<node>.celery.pidbox`.
    public static func workerQueue(nodeName: String, namespace: String = defaultNamespace) -> String {
        nodeName + "." + broadcastExchange(namespace: namespace)
    }

    /// The binding set of the broadcast exchange: `_kombu.binding.celery.pidbox`.
    public static func workerBindingSet(namespace: String = defaultNamespace) -> String {
        QueueKeys.bindingKey(exchange: broadcastExchange(namespace: namespace))
    }

    /// A worker queue's member of ``workerBindingSet(namespace:)``: empty routing key and
    /// pattern, `\x06\x16\x06\x16<node>.celery.pidbox`.
    public static func workerBindingMember(nodeName: String, namespace: String = defaultNamespace) -> String {
        QueueKeys.bindingMember(routingKey: "", queue: workerQueue(nodeName: nodeName, namespace: namespace))
    }
}
