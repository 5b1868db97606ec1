import Celeriac
import CeleriacMonitor
import CeleriacTestTags
import Testing

@Suite(.tags(.integration)) struct ClusterStateTests {
    typealias E = EventScript
    let id = "11111111-2222-3333-4444-555555555555"

    private func replay(_ events: [CeleryEvent], start: Double = 1000, state: ClusterState = ClusterState()) -> ClusterState {
        var s = state
        for (i, e) in events.enumerated() { s.apply(e, receivedAt: start + Double(i) * 0.01) }
        return s
    }

    @Test func followsANormalLifecycle() throws {
        let s = replay([
            E.sent(id, at: 1000), E.received(id, at: 1000.1), E.started(id, at: 1000.2),
            E.succeeded(id, at: 1000.7, runtime: 0.5),
        ])
        let t = try #require(s.tasks[id])
        #expect(t.state == .success)
        #expect(t.name == "app.add")
        #expect(t.args == "(2, 3)" && t.kwargs == "{}" && t.result == "5")
        #expect(t.runtime == 0.5)
        #expect(t.worker == "w1@host" && t.client == "gen200@host")
        #expect(t.queue == "celery" && t.routingKey == "celery" && t.exchange == "")
        #expect(t.rootID == id && t.parentID == nil && t.retries == 0)
        #expect(t.sentAt == 1000 && t.receivedAt == 1000.1 && t.startedAt == 1000.2 && t.succeededAt == 1000.7)
        #expect(t.stateTimestamp == 1000.7)
        #expect(t.timeline.map(\.kind) == [.taskSent, .taskReceived, .taskStarted, .taskSucceeded])
        #expect(t.timeline.map(\.hostname) == ["gen200@host", "w1@host", "w1@host", "w1@host"])
        let stats = try #require(s.taskTypes["app.add"])
        #expect(stats.count(in: .success) == 1 && stats.total == 1)
        #expect(stats.runtimePercentiles?.count == 1)
        #expect(s.eventCount == 4)
    }

    @Test func succeededBeforeStartedAndReceivedStaysSuccessAndMergesFields() throws {
        let s = replay([E.succeeded(id, at: 1000.7), E.started(id, at: 1000.2), E.received(id, at: 1000.1)])
        let t = try #require(s.tasks[id])
        #expect(t.state == .success)
        #expect(t.name == "app.add" && t.args == "(2, 3)" && t.result == "5")
        #expect(t.startedAt == 1000.2 && t.receivedAt == 1000.1 && t.succeededAt == 1000.7)
        // The timeline is in timestamp order whatever the arrival order.
        #expect(t.timeline.map(\.kind) == [.taskReceived, .taskStarted, .taskSucceeded])
        // Counted once, under its name, once the name arrived; its success and run time too.
        let stats = try #require(s.taskTypes["app.add"])
        #expect(stats.count(in: .success) == 1 && stats.total == 1)
        #expect(stats.succeeded.total == 1 && stats.runtimePercentiles?.count == 1)
        #expect(s.succeededRate.total == 1)
    }

    @Test func lateTaskSentFillsClientAndRoutingButNotTheState() throws {
        // Clients publish task-sent on their own connection, so it often arrives after task-received.
        let s = replay([E.received(id, at: 1000.1), E.started(id, at: 1000.2), E.sent(id, at: 1000)])
        let t = try #require(s.tasks[id])
        #expect(t.state == .started && t.client == "gen200@host" && t.worker == "w1@host")
        #expect(t.queue == "celery" && t.sentAt == 1000)
        #expect(s.taskTypes["app.add"]?.count(in: .started) == 1 && s.taskTypes["app.add"]?.total == 1)
    }

    @Test func duplicateEventsAreIdempotent() throws {
        let script = [
            E.sent(id, at: 1000), E.received(id, at: 1000.1), E.started(id, at: 1000.2), E.failed(id, at: 1000.3),
        ]
        let once = replay(script)
        let twice = replay(script.flatMap { [$0, $0] })
        let a = try #require(once.tasks[id])
        let b = try #require(twice.tasks[id])
        #expect(b.state == .failure)
        #expect(a.timeline == b.timeline)
        for state in TaskState.allCases {
            #expect(once.taskTypes["app.add"]?.count(in: state) == twice.taskTypes["app.add"]?.count(in: state))
        }
        #expect(twice.taskTypes["app.add"]?.total == 1 && twice.taskTypes["app.add"]?.failed.total == 1)
        #expect(twice.failures.newestFirst.map(\.count) == [1])
        #expect(twice.failures.totalCount == 1)
        #expect(twice.failedRate.total == 1)
        #expect(twice.eventCount == 8)  // every delivery is still an event
    }

    @Test func lateReceivedAfterFailedKeepsFailureAndFillsNameAndArgs() throws {
        let s = replay([E.failed(id, at: 1000.3), E.received(id, at: 1000.1)])
        let t = try #require(s.tasks[id])
        #expect(t.state == .failure)
        #expect(t.name == "app.add" && t.args == "(2, 3)" && t.retries == 0)
        #expect(t.exception == "ValueError('boom')")
        // The failure moved from the unnamed group to the name's.
        #expect(s.failures.count == 1 && s.failures.totalCount == 1)
        let group = try #require(s.failures[.init(taskName: "app.add", exceptionType: "ValueError")])
        #expect(group.count == 1 && group.latestTaskID == id)
        #expect(s.taskTypes["app.add"]?.count(in: .failure) == 1)
        #expect(s.taskTypes["app.add"]?.lastError?.exception == "ValueError('boom')")
    }

    @Test func lateReceivedKeepsOnlyMergeRuleFields() throws {
        // A late task-received must not replace the current state's timestamp, worker fields etc.
        let other = EventSender(hostname: "w2@host", utcoffset: 0, pid: 5)
        let s = replay([E.started(id, at: 1000.2), E.received(id, "app.shadow", at: 1000.1, from: other)])
        let t = try #require(s.tasks[id])
        #expect(t.state == .started && t.name == "app.shadow")
        #expect(t.worker == "w2@host")  // Celery sets task.worker from every non-sent event
    }

    @Test func revokedTasksKeepTheirRevokeDetails() throws {
        let expired = "exp"
        let terminated = "term"
        let s = replay([
            E.revoked(expired, at: 1000, expired: true),
            E.received(terminated, at: 1001), E.started(terminated, at: 1002),
            E.revoked(terminated, at: 1003, terminated: true, signum: 15),
            E.started(terminated, at: 1002),  // late duplicate must not un-revoke
        ])
        let e = try #require(s.tasks[expired])
        #expect(e.state == .revoked && e.expired == true && e.terminated == false && e.signum == nil)
        #expect(e.name == nil)  // expired on arrival: no task-received
        let t = try #require(s.tasks[terminated])
        #expect(t.state == .revoked && t.terminated == true && t.signum == 15 && t.revokedAt == 1003)
        #expect(s.taskTypes["app.add"]?.count(in: .revoked) == 1)
    }

    @Test func retrySequenceEndsInSuccess() throws {
        let child = EventSender(hostname: "gen300@host", utcoffset: 0, pid: 300)
        let s = replay([
            E.sent(id, at: 1000), E.received(id, at: 1000.1), E.started(id, at: 1000.2), E.retried(id, at: 1000.3),
            E.sent(id, at: 1000.31, retries: 1, from: child), E.received(id, at: 1001.3, retries: 1),
            E.started(id, at: 1001.4), E.succeeded(id, at: 1001.5),
        ])
        let t = try #require(s.tasks[id])
        #expect(t.state == .success && t.retries == 1)
        #expect(t.retriedAt == 1000.3 && t.receivedAt == 1001.3)
        #expect(t.client == "gen300@host")
        #expect(t.exception == "KeyError('again')")  // kept after the later success, as Celery does
        let stats = try #require(s.taskTypes["app.add"])
        #expect(stats.count(in: .success) == 1 && stats.total == 1)
        #expect(s.failures.count == 0)
    }

    @Test func stateAfterRetryFollowsTheNextEventWhateverItsPrecedence() throws {
        // RETRY is special in Celery: the task runs again, so task-sent (PENDING) replaces it.
        let s = replay([E.received(id, at: 1000), E.retried(id, at: 1001), E.sent(id, at: 1001.1, retries: 1)])
        #expect(s.tasks[id]?.state == .pending)
        #expect(s.taskTypes["app.add"]?.count(in: .pending) == 1)
        #expect(s.taskTypes["app.add"]?.total == 1)
    }

    @Test func failedPlusRejectedBatchStaysFailure() throws {
        var s = ClusterState()
        s.apply(contentsOf: try E.sample("task.multi_batch_task-failed_plus_task-rejected"), receivedAt: 1795572082.3)
        let t = try #require(s.tasks["b01b045c-861f-460e-b4c5-dcc070d05683"])
        #expect(t.state == .failure && t.requeue == false && t.rejectedAt != nil)
        #expect(s.failures.newestFirst.first?.key == .init(taskName: nil, exceptionType: "reject requeue=False"))
    }

    @Test func replaysCapturedCelerySamples() throws {
        var s = ClusterState()
        var now = 1795571899.7
        for name in [
            "worker-online", "worker-heartbeat", "task-sent", "task-received", "task-started", "task-succeeded",
            "task-failed", "task-failed_notregistered", "task-revoked_expired", "task-retried",
            "task-sent_retry_from_pool_child", "task.multi_batch_started_plus_succeeded",
        ] {
            now += 0.01
            s.apply(contentsOf: try E.sample(name), receivedAt: now)
        }
        let add = try #require(s.tasks["8bd1c012-b0f8-49ee-a1a5-341a16517ca8"])
        #expect(add.state == .success && add.name == "wireapp.add" && add.result == "5")
        #expect(add.client == "gen6639@vm" && add.worker == "w1@vm" && add.queue == "celery")
        #expect(s.tasks["df12c783-c44c-401d-96f8-6da0b596f73e"]?.state == .failure)
        #expect(s.failures[.init(taskName: nil, exceptionType: "NotRegistered")]?.count == 1)
        #expect(s.failures[.init(taskName: nil, exceptionType: "ValueError")]?.latestTraceback?.hasPrefix("Traceback") == true)
        #expect(s.tasks["659be21a-5149-4ed9-ac26-c5a5a092ba58"]?.expired == true)
        let retry = try #require(s.tasks["e4303b3e-612a-4477-8a17-a135027bb1b9"])
        #expect(retry.state == .pending && retry.retries == 1 && retry.name == "wireapp.retrying")
        #expect(s.workers["w1@vm"]?.swVer == "5.7.0")
        #expect(s.workers.count == 1)  // clients (gen…@vm) are not workers
        #expect(s.eventCount == 13)

        s.apply(contentsOf: try E.sample("worker-offline"), receivedAt: now + 1)
        #expect(s.workers["w1@vm"]?.isOnline(now: now + 1) == false)
        #expect(s.workers["w1@vm"]?.processed == 14)
    }

    @Test func correctsTimestampsByUTCOffset() throws {
        // A worker in UTC+2 sends utcoffset -2.0; a monitor in UTC corrects its timestamps by
        // +2 h (celery.utils.time.adjust_timestamp), one in UTC+2 leaves them alone.
        let east = EventSender(hostname: "w2@east", utcoffset: -2.0, pid: 7)
        let events = [E.received(id, at: 1000, from: east), E.heartbeat(.workerOnline, at: 1000, from: east)]
        let utc = replay(events)
        #expect(utc.tasks[id]?.receivedAt == 8200.0)
        #expect(utc.workers["w2@east"]?.lastHeartbeatSent == 8200.0)
        #expect(utc.workers["w2@east"]?.hasClockDrift == true)
        let local = replay(events, state: ClusterState(configuration: .init(localUTCOffset: -2.0)))
        #expect(local.tasks[id]?.receivedAt == 1000)
        #expect(local.workers["w2@east"]?.hasClockDrift == false)
        // Liveness uses local receive time, so the offset never takes a worker offline.
        #expect(utc.workers["w2@east"]?.isOnline(now: 1003) == true)
    }

    @Test func replacesTaskSentClocksAsCeleryReceiversDo() throws {
        var s = ClusterState()
        s.apply(E.received("a", at: 1000), receivedAt: 1000)  // clock 10
        s.apply(E.sent("b", at: 1000), receivedAt: 1000)  // its clock 1 is replaced by 11 - 1
        #expect(s.tasks["b"]?.clock == 10)
        #expect(s.clock.value == 12)  // max(11, 10) + 1
    }

    @Test func summarizesTheCluster() throws {
        var s = ClusterState()
        s.apply(E.heartbeat(.workerOnline, at: 1000), receivedAt: 1000)
        s.apply(E.heartbeat(at: 990, from: EventSender(hostname: "w2@host", utcoffset: 0, pid: 2)), receivedAt: 990)
        for i in 0..<10 {
            let t = 1000 + Double(i) * 0.1
            s.apply(E.received("ok\(i)", at: t), receivedAt: t)
            s.apply(E.succeeded("ok\(i)", at: t), receivedAt: t)
        }
        s.apply(E.failed("bad", at: 1001.5), receivedAt: 1001.5)
        let sum = s.summary(now: 1002.2)
        #expect(sum.workersOnline == 1 && sum.workersTotal == 2)
        #expect(sum.tasksPerSecond == 1)  // second [1001, 1002): one failure
        #expect(sum.tasksPerSecondLastMinute == 11.0 / 60)
        #expect(sum.failuresPerMinute == 1)
        #expect(sum.succeededPerSecond.count == 60 && sum.failedPerSecond.count == 60)
        #expect(sum.succeededPerSecond.suffix(2) == [10, 0])
        #expect(sum.failedPerSecond.suffix(2) == [0, 1])
        #expect(sum.totalEvents == 23 && sum.tasksHeld == 11 && sum.tasksEvicted == 0)
        #expect(s.onlineWorkers(now: 1002.2).map(\.hostname) == ["w1@host"])
    }

    @Test func boundsTheTaskStoreButKeepsCounting() throws {
        var s = ClusterState(configuration: .init(maxTasks: 3))
        for i in 0..<5 {
            s.apply(E.received("t\(i)", at: 1000), receivedAt: 1000)
            s.apply(E.succeeded("t\(i)", at: 1000), receivedAt: 1000)
        }
        #expect(s.tasks.count == 3 && s.tasks.evictedCount == 2)
        #expect(s.tasks.newestFirst.map(\.uuid) == ["t4", "t3", "t2"])
        #expect(s.taskTypes["app.add"]?.count(in: .success) == 5)
    }

    @Test func poolsTaskNamesBeyondTheLimit() {
        var s = ClusterState(configuration: .init(maxTaskTypes: 2))
        for (i, name) in ["a.one", "a.two", "a.three", "a.four"].enumerated() {
            s.apply(E.received("t\(i)", name, at: 1000), receivedAt: 1000)
        }
        #expect(Set(s.taskTypes.keys) == ["a.one", "a.two", ClusterState.otherTaskTypesName])
        #expect(s.taskTypes[ClusterState.otherTaskTypesName]?.count(in: .received) == 2)
    }

    @Test func holdsQueueSamplesAndMonitorLinks() throws {
        var s = ClusterState()
        s.updateQueues([
            QueueSample(name: "video", depths: [.init(priority: 0, depth: 1)], sampledAt: 5),
            QueueSample(
                name: "celery", depths: [.init(priority: 0, depth: 4), .init(priority: 3, depth: 2)],
                oldestMessageAge: 12.5, sampledAt: 5),
        ], at: 5)
        #expect(s.queues.map(\.name) == ["celery", "video"])
        #expect(s.queues[0].total == 6 && s.queues[0].oldestMessageAge == 12.5)
        #expect(s.queuesUpdatedAt == 5)

        s.apply(E.failed(id, at: 1000), receivedAt: 1000)
        s.linkRetry(original: id, resent: "again", at: 1001)
        #expect(s.tasks[id]?.retriedAs == "again")
        #expect(s.tasks["again"]?.retryOf == id)
        s.apply(E.sent("again", at: 1001), receivedAt: 1001)
        #expect(s.tasks["again"]?.retryOf == id && s.tasks["again"]?.name == "app.add")
    }
}
