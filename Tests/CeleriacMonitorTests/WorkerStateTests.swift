import Celeriac
import CeleriacMonitor
import CeleriacTestTags
import Testing

@Suite(.tags(.integration)) struct WorkerStateTests {
    typealias E = EventScript
    let host = "w1@host"

    @Test func staysOnlineThroughALongTaskWhileHeartbeatsContinueThenExpiresAfterTwiceFreq() throws {
        var s = ClusterState()
        s.apply(E.heartbeat(.workerOnline, at: 1000), receivedAt: 1000)
        s.apply(E.received("long", at: 1000.5), receivedAt: 1000.5)
        s.apply(E.started("long", at: 1001), receivedAt: 1001)
        // The task runs for 60 s; no task events, heartbeats every 2 s with active = 1.
        var t = 1002.0
        while t <= 1060 {
            s.apply(E.heartbeat(at: t, active: 1), receivedAt: t)
            #expect(s.workers[host]?.isOnline(now: t + 3.9) == true)
            t += 2
        }
        let last = t - 2
        #expect(s.workers[host]?.active == 1)
        #expect(s.workers[host]?.heartbeats.count == WorkerState.heartbeatsKept)
        // Heartbeats stop: online until last + 2 * freq, offline from then on.
        #expect(s.workers[host]?.isOnline(now: last + 3.99) == true)
        #expect(s.workers[host]?.isOnline(now: last + 4) == false)
        #expect(s.workers[host]?.heartbeatExpires == last + 4)
        #expect(s.summary(now: last + 5).workersOnline == 0)
        #expect(s.summary(now: last + 5).workersTotal == 1)
    }

    @Test func goesOfflineAtOnceOnWorkerOffline() throws {
        var s = ClusterState()
        s.apply(E.heartbeat(.workerOnline, at: 1000), receivedAt: 1000)
        s.apply(E.heartbeat(.workerOffline, at: 1001, processed: 7), receivedAt: 1001)
        let w = try #require(s.workers[host])
        #expect(!w.isOnline(now: 1001) && w.isOffline && w.heartbeats.isEmpty && w.offlineAt == 1001)
        #expect(w.processed == 7)
        // A late task event does not resurrect it; a heartbeat sent *before* the offline neither.
        s.apply(E.succeeded("x", at: 1000.9), receivedAt: 1001.1)
        s.apply(E.heartbeat(at: 1000.5), receivedAt: 1001.2)
        #expect(s.workers[host]?.isOnline(now: 1001.3) == false)
        #expect(s.workers[host]?.processed == 7)
        // Coming back: worker-online after a restart.
        s.apply(E.heartbeat(.workerOnline, at: 1010), receivedAt: 1010)
        #expect(s.workers[host]?.isOnline(now: 1011) == true)
        #expect(s.workers[host]?.isOffline == false)
    }

    @Test func ignoresWorkerOfflineFromAnUnknownWorker() {
        var s = ClusterState()
        s.apply(E.heartbeat(.workerOffline, at: 1000), receivedAt: 1000)
        #expect(s.workers.isEmpty)
    }

    @Test func taskEventsAreSignsOfLifeAsInCelery() throws {
        var s = ClusterState()
        // Known only through a task event: Celery's default freq of 60 s applies.
        s.apply(E.received("a", at: 1000), receivedAt: 1000)
        #expect(s.workers[host]?.freq == 60)
        #expect(s.workers[host]?.isOnline(now: 1119) == true)
        #expect(s.workers[host]?.isOnline(now: 1120) == false)
        // With freq known, a task event counts as a heartbeat at its timestamp, capped at its
        // receive time (a worker clock ahead of ours does not keep it alive longer).
        s.apply(E.heartbeat(at: 1200), receivedAt: 1200)
        s.apply(E.started("a", at: 1299), receivedAt: 1203)
        #expect(s.workers[host]?.lastHeartbeat == 1203)
        #expect(s.workers[host]?.isOnline(now: 1206.9) == true)
        #expect(s.workers[host]?.isOnline(now: 1207) == false)
        // task-sent comes from a client, which is no worker.
        s.apply(E.sent("b", at: 1203), receivedAt: 1203)
        #expect(s.workers["gen200@host"] == nil)
    }

    @Test func keepsHeartbeatsSortedAndBoundedWhenTheyArriveOutOfOrder() throws {
        var s = ClusterState()
        for t in [1000.0, 1004, 1002, 1006, 1001, 1008] {
            s.apply(E.heartbeat(at: t), receivedAt: t)
        }
        let w = try #require(s.workers[host])
        #expect(w.heartbeats == [1002, 1004, 1006, 1008])
        #expect(w.lastHeartbeatSent == 1008)
    }

    @Test func recordsWorkerDetailsAndDrift() throws {
        var s = ClusterState()
        s.apply(E.heartbeat(.workerOnline, at: 980, active: 2, processed: 40), receivedAt: 1000)
        let w = try #require(s.workers[host])
        #expect(w.pid == 100 && w.freq == 2 && w.active == 2 && w.processed == 40)
        #expect(w.loadavg == [0.5, 0.25, 0.1])
        #expect(w.swIdent == "py-celery" && w.swVer == "5.7.0" && w.swSys == "Linux")
        #expect(w.lastHeartbeat == 1000 && w.lastHeartbeatSent == 980)
        #expect(w.clockDrift == 20 && w.hasClockDrift)
    }

    @Test func mergesInspectStats() throws {
        let reply = try JSONParser.parse(Array(#"""
            {"total": {"a": 1}, "pid": 4781, "clock": "135", "prefetch_count": 8,
             "pool": {"implementation": "celery.concurrency.prefork:TaskPool", "max-concurrency": 2, "processes": [1, 2]}}
            """#.utf8))
        var s = ClusterState()
        let unknown = s.mergeStats(reply, hostname: host)
        #expect(!unknown)  // unknown workers are not created
        s.apply(E.heartbeat(.workerOnline, at: 1000), receivedAt: 1000)
        let known = s.mergeStats(reply, hostname: host)
        #expect(known)
        let w = try #require(s.workers[host])
        #expect(w.pool == "celery.concurrency.prefork:TaskPool" && w.concurrency == 2)
        #expect(w.pid == 4781 && w.prefetchCount == 8)
    }
}
