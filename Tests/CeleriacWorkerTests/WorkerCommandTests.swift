import Celeriac
import CeleriacWorker
import Testing

@Suite struct WorkerCommandTests {
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

    @Test func badFlagsAreRejected() {
        #expect(throws: (any Error).self) { try WorkerCommand.parse(["-c", "0"]) }
        #expect(throws: (any Error).self) { try WorkerCommand.parse(["--loglevel", "LOUD"]) }
        #expect(throws: (any Error).self) { try WorkerCommand.parse(["-Q", " , "]) }
    }

    @Test func helpExplainsEveryFlag() {
        let help = WorkerCommand.helpMessage(columns: 200)
        for flag in ["--broker", "--result-backend", "--config", "-Q", "--concurrency", "--prefetch-multiplier", "--hostname", "--loglevel", "--task-events", "--statedb", "--without-mingle", "celeriac.dead_letter"] {
            #expect(help.contains(flag), "help lacks \(flag)")
        }
    }

    @Test func nodeNameTemplatesExpandLikeCelerys() {
        #expect(WorkerSettings.expandNodeName("w1@%h", hostname: "box.example.com") == "w1@box.example.com")
        #expect(WorkerSettings.expandNodeName("w-%n@%d", hostname: "box.example.com") == "w-box@example.com")
        #expect(WorkerSettings.expandNodeName("solo", hostname: "box") == "solo@box")
        #expect(WorkerSettings.expandNodeName("100%%@%h", hostname: "box") == "100%@box")
    }
}
