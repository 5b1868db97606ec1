/// Redis pub/sub channel names for the `celeryev` exchange.
///
/// On Redis Celery makes `celeryev` a fanout exchange, which kombu maps to pub/sub: it
/// PUBLISHes to `/<db>.celeryev/<routing key>`. Pub/sub is not scoped to a database, hence
/// the `/<db>.` prefix; processes using different DB numbers never see each other's events.
public enum EventChannel {
    /// The events exchange name.
    public static let exchange = "celeryev"

    /// The channel an event with `routingKey` is published on: `/0.celeryev/task.multi`;
    /// just `/0.celeryev` for an empty routing key, as kombu does.
    public static func name(db: Int, routingKey: String) -> String {
        routingKey.isEmpty ? prefix(db: db) : prefix(db: db) + "/" + routingKey
    }

    /// The PSUBSCRIBE pattern for an AMQP-style binding key: kombu turns `#` into `*`.
    ///
    /// `pattern(db: 0)` is `/0.celeryev/*`, what monitors subscribe to (every event);
    /// `pattern(db: 0, bindingKey: "worker.#")` is `/0.celeryev/worker.*`, what workers use for
    /// gossip. A channel pattern's `*` also matches dots, so this is a superset of the AMQP match.
    public static func pattern(db: Int, bindingKey: String = "#") -> String {
        name(db: db, routingKey: String(bindingKey.map { $0 == "#" ? "*" : $0 }))
    }

    /// The routing key part of an event channel (`task.multi` from `/0.celeryev/task.multi`),
    /// `""` for the bare exchange channel, `nil` for a channel of another exchange.
    public static func routingKey(of channel: String) -> String? {
        guard channel.hasPrefix("/"), let dot = channel.firstIndex(of: ".") else { return nil }
        let afterDot = channel[channel.index(after: dot)...]
        guard afterDot.hasPrefix(exchange) else { return nil }
        let rest = afterDot.dropFirst(exchange.count)
        if rest.isEmpty { return "" }
        guard rest.first == "/" else { return nil }
        return String(rest.dropFirst())
    }

    /// The routing-key prefix of a sync marker: `qmon.sync.` (it names its sender to anyone
    /// watching the channels).
    public static let syncMarkerRoutingPrefix = "qmon.sync."

    /// The channel of a sync marker: `/0.celeryev/qmon.sync.<token>`.
    ///
    /// A monitor that wants every event published before some moment PUBLISHes an empty
    /// message here at that moment: the pattern subscription it receives events through
    /// matches this channel, and Redis delivers one connection's messages in the order they
    /// were published, so once the marker arrives everything published before it has arrived
    /// too (``EventReceiver/finish(atSyncMarker:)``). The payload is empty so Celery's own
    /// receivers ignore it without a warning (kombu skips pub/sub messages with no data);
    /// ``EventReceiver`` skips every sync marker silently, its own or another monitor's.
    ///
    /// - Parameters:
    ///   - db: The database whose events it follows.
    ///   - token: A value unique to this marker (a fresh UUID).
    public static func syncMarker(db: Int, token: String) -> String {
        name(db: db, routingKey: syncMarkerRoutingPrefix + token)
    }

    /// The prefix every sync marker channel of `db` starts with: `/0.celeryev/qmon.sync.`.
    public static func syncMarkerPrefix(db: Int) -> String { syncMarker(db: db, token: "") }

    private static func prefix(db: Int) -> String { "/\(db)." + exchange }
}
