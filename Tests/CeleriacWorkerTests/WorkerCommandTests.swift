import Celeriac
import CeleriacWorker
import Foundation
import CeleriacTestTags
import Testing

@Suite(.tags(.integration)) struct WorkerCommandTests {
    @Test func flagsOverrideEnvironmentAndConfig() throws {
        let cmd = try WorkerCommand.parse(["--broker", "redis://:secret@127.0.0.1:7000/3", "-Q", "a, b", "-c", "3", "--prefetch-multiplier", "2", "-n", "w1@%h"])
        let s = try cmd.settings(environment: ["CELERY_BROKER_URL": "redis://127.0.0.1:1/0", "CELERY_RESULT_BACKEND": "redis://127.0.0.1:7001/1"])
        #expect(s.brokerURL.database == 3)
        #expect(s.brokerURL.password == "secret")
        #expect(s.resultBackendURL?.database == 1)
        #expect(s.queues == ["a", "b"])
        #expect(s.concurrency == 3)
        #expect(s.prefetchLimit == 6)
        #expect(s.nodeName.hasPrefix("w1@"))
    }

    @Test func environmentSuppliesWhatFlagsDoNot() throws {
        let s = try WorkerCommand.parse([]).settings(environment: ["CELERY_BROKER_URL": "redis://127.0.0.1:7002/4", "CELERY_TASK_DEFAULT_QUEUE": "jobs", "CELERY_RESULT_BACKEND": "disabled"])
        #expect(s.brokerURL.database == 4)
        #expect(s.queues == ["jobs"])
        #expect(s.resultBackendURL == nil)
    }

    @Test func defaultConcurrencyDependsOnThePool() throws {
        #expect(try WorkerCommand.parse([]).settings(environment: [:]).concurrency == WorkerSettings.defaultAsyncConcurrency)
        #expect(try WorkerCommand.parse(["--pool", "prefork"]).settings(environment: [:]).concurrency == ProcessInfo.processInfo.activeProcessorCount)
        #expect(try WorkerCommand.parse([]).settings(environment: ["CELERY_WORKER_CONCURRENCY": "5"]).concurrency == 5)
    }

    @Test func badFlagsAreRejected() {
        #expect(throws: (any Error).self) { try WorkerCommand.parse(["-c", "0"]) }
        #expect(throws: (any Error).self) { try WorkerCommand.parse(["--loglevel", "LOUD"]) }
        #expect(throws: (any Error).self) { try WorkerCommand.parse(["-Q", " , "]) }
    }

    @Test func helpExplainsEveryFlag() {
        let help = WorkerCommand.helpMessage(columns: 200)
        for flag in ["--broker", "--result-backend", "--config", "-Q", "--concurrency", "--prefetch-multiplier", "--hostname", "--loglevel", "--task-events", "--statedb", "--without-mingle", "celeriac.dead_letter",
                     "--pool", "prefork", "--max-tasks-per-child"] {
            #expect(help.contains(flag), "help lacks \(flag)")
        }
    }

    @Test func poolFlagsChooseWhereTasksRun() throws {
        #expect(try WorkerCommand.parse([]).settings(environment: [:]).pool == .async)
        let prefork = try WorkerCommand.parse(["-P", "prefork", "--max-tasks-per-child", "5"]).settings(environment: [:])
        #expect(prefork.pool == .process)
        #expect(prefork.maxTasksPerChild == 5)
        #expect(try WorkerCommand.parse(["--pool", "process"]).settings(environment: [:]).pool == .process)
        #expect(throws: (any Error).self) { try WorkerCommand.parse(["--pool", "gevent"]) }
        #expect(throws: (any Error).self) { try WorkerCommand.parse(["--max-tasks-per-child", "0"]) }
        let fromEnvironment = try WorkerCommand.parse([]).settings(environment: [
            "CELERY_WORKER_POOL": "prefork", "CELERY_WORKER_MAX_TASKS_PER_CHILD": "3", "CELERY_TASK_REJECT_ON_WORKER_LOST": "true",
        ])
        #expect(fromEnvironment.pool == .process)
        #expect(fromEnvironment.maxTasksPerChild == 3)
        #expect(fromEnvironment.rejectOnWorkerLost)
        #expect(try WorkerCommand.parse(["-P", "async"]).settings(environment: ["CELERY_WORKER_POOL": "prefork"]).pool == .async, "the flag wins")
        #expect(throws: (any Error).self) { try WorkerCommand.parse([]).settings(environment: ["CELERY_WORKER_POOL": "threads"]) }
    }

    @Test func nodeNameTemplatesExpandLikeCelerys() {
        #expect(WorkerSettings.expandNodeName("w1@%h", hostname: "box.example.com") == "w1@box.example.com")
        #expect(WorkerSettings.expandNodeName("w-%n@%d", hostname: "box.example.com") == "w-box@example.com")
        #expect(WorkerSettings.expandNodeName("solo", hostname: "box") == "solo@box")
        #expect(WorkerSettings.expandNodeName("100%%@%h", hostname: "box") == "100%@box")
    }
}
