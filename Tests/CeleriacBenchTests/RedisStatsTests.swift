import CeleriacBench
import CeleriacTestSupport
import CeleriacTestTags
import Testing

@Suite(.tags(.integration)) struct RedisStatsTests {
    static let info = """
        # Stats
        total_connections_received:12
        total_reads_processed:3051
        instantaneous_ops_per_sec:0

        # Commandstats
        cmdstat_brpop:calls=1000,usec=5000,usec_per_call=5.00,rejected_calls=0,failed_calls=0
        cmdstat_hset:calls=1000,usec=900,usec_per_call=0.90,rejected_calls=0,failed_calls=0
        cmdstat_client|list:calls=2,usec=30,usec_per_call=15.00,rejected_calls=0,failed_calls=0
        cmdstat_llen:calls=40,usec=20,usec_per_call=0.50,rejected_calls=0,failed_calls=0
        cmdstat_hlen:calls=10,usec=5,usec_per_call=0.50,rejected_calls=0,failed_calls=0
        """

    @Test func commandStatsCountCallsPerCommandIncludingSubcommands() {
        let stats = CommandStats(info: Self.info)
        #expect(stats.calls == ["brpop": 1000, "hset": 1000, "client|list": 2, "llen": 40, "hlen": 10])
        #expect(stats.total == 2052)
    }

    @Test func theBenchmarksOwnCommandsAreLeftOut() {
        let workers = CommandStats(info: Self.info).subtracting(CommandStats(calls: ["llen": 40, "hlen": 10, "rename": 1]))
        #expect(workers.calls == ["brpop": 1000, "hset": 1000, "client|list": 2])
        let perTask = workers.perTask(1000)
        #expect(perTask.map(\.command) == ["brpop", "hset", "client|list"], "most frequent first, ties by name")
        #expect(perTask.map(\.perTask) == [1, 1, 0.002])
        #expect(workers.perTask(0).isEmpty)
    }

    @Test func infoFieldsAreReadBySectionlessName() {
        let info = RedisInfo(Self.info)
        #expect(info.int("total_reads_processed") == 3051)
        #expect(info.fields["cmdstat_brpop"]?.hasPrefix("calls=1000") == true)
        #expect(info.int("nope") == nil)
    }

    @Test func redisBenchmarkCSVGivesTheLPUSHRate() {
        let csv = """
            "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
            "LPUSH","497512.44","0.112","0.040","0.103","0.175","0.223","0.647"
            """
        #expect(RedisCeiling.parseCSV(csv) == 497_512.44)
        #expect(RedisCeiling.parseCSV("garbage") == nil)
    }

    @Test func drainRunDerivesRatesAndPerTaskCosts() {
        let run = DrainRun(tasks: 2000, seconds: 0.5, commands: CommandStats(calls: ["brpop": 2000, "hset": 2000]), roundTrips: 3000)
        #expect(run.rate == 4000)
        #expect(run.commandsPerTask == 2)
        #expect(run.roundTripsPerTask == 1.5)
    }

    @Test func drainRunsAreSizedToTheirTargetLengthWithinBounds() {
        let size = DrainSize(seconds: 5, minimum: 20_000, maximum: 200_000, calibration: 5_000)
        #expect(size.tasks(atRate: 10_000) == 50_000)
        #expect(size.tasks(atRate: 800) == 20_000, "a slow worker still gets the minimum")
        #expect(size.tasks(atRate: 1_000_000) == 200_000, "a fast one is capped")
        #expect(size.tasks(atRate: .infinity) == 20_000)
        #expect(size.tasks(atRate: 0) == 20_000)
    }
}
