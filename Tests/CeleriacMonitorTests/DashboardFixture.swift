import Celeriac
import CeleriacMonitor

/// A cluster built by replaying scripted events: two workers (one gone offline), successes,
/// failures of two kinds, a running task, a terminated and an expired revoke, queues.
enum DashboardFixture {
    typealias E = EventScript
    static let now: Double = 10_000
    static let w2 = EventSender(hostname: "w2@host", utcoffset: 0, pid: 101)

    static func model() -> ClusterState {
        var s = ClusterState()
        var t = now - 30
        func at(_ e: CeleryEvent, _ dt: Double = 0.1) {
            t += dt
            s.apply(e, receivedAt: t)
        }
        at(E.heartbeat(.workerOnline, at: t, active: 0, processed: 0))
        at(E.heartbeat(.workerOnline, at: t, from: w2))
        for i in 0..<12 {
            let id = "ok-\(i)"
            at(E.sent(id, at: t)); at(E.received(id, at: t)); at(E.started(id, at: t))
            at(E.succeeded(id, at: t, runtime: 0.1 * Double(i + 1)), 1)
        }
        for i in 0..<3 {
            let id = "fail-\(i)"
            at(E.received(id, "app.charge", at: t)); at(E.started(id, at: t))
            at(E.failed(id, at: t, exception: "ValueError('card declined')", traceback: "Traceback (most recent call last):\n  File \"app.py\", line 3\nValueError: card declined"), 1)
        }
        at(E.received("timeout-1", "app.charge", at: t)); at(E.started("timeout-1", at: t))
        at(E.failed("timeout-1", at: t, exception: "TimeoutError('slow')", traceback: "Traceback…\nTimeoutError: slow"))
        at(E.received("long-1", "app.report", at: t)); at(E.started("long-1", at: t))
        at(E.received("term-1", "app.report", at: t)); at(E.started("term-1", at: t))
        at(E.revoked("term-1", at: t, terminated: true, signum: 15))
        at(E.revoked("exp-1", at: t, expired: true))
        at(.worker(.workerOffline, w2, clock: 2, timestamp: t, freq: 2, active: 0, processed: 3, loadavg: [0, 0, 0], swIdent: "py-celery", swVer: "5.7.0", swSys: "Linux"))
        // w1 keeps heart-beating while long-1 runs.
        t = now - 1
        at(E.heartbeat(at: now - 1, active: 1, processed: 16), 0)
        var pool = JSONObject()
        pool.append("implementation", .string("celery.concurrency.prefork:TaskPool"))
        pool.append("max-concurrency", .int(8))
        var stats = JSONObject()
        stats.append("pid", .int(100))
        stats.append("pool", .object(pool))
        s.mergeStats(.object(stats), hostname: "w1@host")
        s.updateQueues([
            QueueSample(name: "celery", depths: [.init(priority: 0, depth: 42), .init(priority: 3, depth: 1)], oldestMessageAge: 75, sampledAt: now - 2),
            QueueSample(name: "mail", depths: [.init(priority: 0, depth: 0)], sampledAt: now - 2),
        ], at: now - 2)
        return s
    }

    static let small = TerminalSize(rows: 24, columns: 80)
    static let large = TerminalSize(rows: 35, columns: 120)

    static func view(_ screen: Screen = .overview, size: TerminalSize = small, readOnly: Bool = false) -> ViewState {
        var v = ViewState(connectionLabel: "redis://:***@127.0.0.1:6379/0", readOnly: readOnly)
        v.screen = screen
        v.size = size
        return v
    }

    static func lines(_ model: ClusterState, _ view: ViewState, size: TerminalSize? = nil) -> [String] {
        Layout.layout(model: model, view: view, size: size ?? view.size, now: now).lines
    }
}
