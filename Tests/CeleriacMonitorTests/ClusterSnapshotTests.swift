import Celeriac
import CeleriacMonitor
import CeleriacTestTags
import Testing

@Suite(.tags(.integration)) struct ClusterSnapshotTests {
    typealias E = EventScript

    @Test func documentHasEverySectionFromAScriptedCluster() throws {
        var state = ClusterState()
        let inputs: [MonitorInput] = [
            .events([E.heartbeat(.workerOnline, at: 1000)], receivedAt: 1000),
            .events([E.sent("a", at: 1000), E.received("a", at: 1000.1), E.started("a", at: 1000.2)], receivedAt: 1000.2),
            .events([E.succeeded("a", at: 1000.7, runtime: 0.5)], receivedAt: 1000.7),
            .events([E.received("b", at: 1001), E.failed("b", at: 1001.5)], receivedAt: 1001.5),
            .workerStats(hostname: "w1@host", stats: ["pid": 100, "pool": ["implementation": "prefork", "max-concurrency": 4]]),
            .queues([QueueSample(name: "celery", depths: [.init(priority: 0, depth: 2), .init(priority: 3, depth: 1)], sampledAt: 1001, oldestTaskID: "c")], at: 1001),
            .retryLinked(original: "b", resent: "b2", at: 1002),
        ]
        for input in inputs {
            let notice = state.apply(input)
            #expect(notice == nil)
        }
        let notice = state.apply(.notice("hi"))
        #expect(notice == "hi")

        let doc = ClusterSnapshot.json(state, now: 1002, taskLimit: 2)
        #expect(doc.objectValue?.keys == ["generated_at", "summary", "workers", "task_types", "failures", "queues", "tasks"])
        #expect(doc["summary"]?["workers_online"] == 1 && doc["summary"]?["workers_total"] == 1)

        let worker = try #require(doc["workers"]?.arrayValue?.first)
        #expect(worker["hostname"] == "w1@host" && worker["online"] == true)
        #expect(worker["pool"] == "prefork" && worker["concurrency"] == 4 && worker["pid"] == 100)

        let type = try #require(doc["task_types"]?.arrayValue?.first)
        #expect(type["name"] == "app.add" && type["total"] == 2)
        #expect(type["counts"]?["SUCCESS"] == 1 && type["counts"]?["FAILURE"] == 1 && type["counts"]?["PENDING"] == 0)
        #expect(type["runtime"]?["count"] == 1 && type["runtime"]?["p50"]?.doubleValue.map { abs($0 - 0.5) < 0.01 } == true)
        #expect(type["last_error"]?["task_id"] == "b")

        let failure = try #require(doc["failures"]?.arrayValue?.first)
        #expect(failure["task_name"] == "app.add" && failure["exception_type"] == "ValueError" && failure["count"] == 1)

        let queue = try #require(doc["queues"]?.arrayValue?.first)
        #expect(queue["name"] == "celery" && queue["total"] == 3 && queue["oldest_task_id"] == "c")
        #expect(queue["depths"] == ["0": 2, "3": 1])

        // Newest first, limited: the retry placeholder, then b (linked to it).
        let tasks = try #require(doc["tasks"]?.arrayValue)
        #expect(tasks.map { $0["uuid"] } == ["b2", "b"])
        #expect(tasks[0]["retry_of"] == "b" && tasks[1]["retried_as"] == "b2")
        #expect(tasks[1]["state"] == "FAILURE" && tasks[1]["worker"] == "w1@host" && tasks[1]["exception"] == "ValueError('boom')")
    }
}
