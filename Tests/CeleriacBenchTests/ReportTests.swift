import CeleriacBench
import CeleriacTestTags
import CeleriacTestSupport
import Testing

@Suite(.tags(.integration)) struct ReportTests {
    @Test func sampleGivesMedianMinAndMax() throws {
        let odd = try #require(Sample([3, 1, 2]))
        #expect(odd.median == 2)
        #expect(odd.min == 1)
        #expect(odd.max == 3)
        #expect(odd.runs == [3, 1, 2], "runs stay in measured order")
        #expect(try #require(Sample([4, 1, 3, 2])).median == 2.5)
        #expect(Sample([]) == nil)
    }

    @Test func figuresAreShortWithGroupedThousands() throws {
        #expect(FigureFormat.number(45_123.4) == "45,123")
        #expect(FigureFormat.number(865.49) == "865")
        #expect(FigureFormat.number(12.44) == "12.4")
        #expect(FigureFormat.number(0.426) == "0.43")
        #expect(FigureFormat.number(0) == "0.00")
        #expect(FigureFormat.number(1_234_567) == "1,234,567")
        #expect(FigureFormat.grouped(-1_000) == "-1,000")
        #expect(FigureFormat.sample(try #require(Sample([900, 865, 850]))) == "865 [850–900]")
        #expect(FigureFormat.sample(try #require(Sample([7]))) == "7.00")
        #expect(FigureFormat.ratio(52.4) == "52×")
        #expect(FigureFormat.ratio(3.44) == "3.4×")
        #expect(FigureFormat.ratio(0.456) == "0.46×")
    }

    @Test func ratioIsHowManyTimesBetterSwiftIs() {
        var rate = Measurement(
            id: "r", section: "S", title: "rate", unit: "tasks/s", higherIsBetter: true,
            swift: Sample([40_000]), python: Sample([800]), target: .ratioAtLeast(50))
        #expect(rate.ratio == 50)
        #expect(rate.targetMet == true)
        rate.swift = Sample([39_000])
        #expect(rate.targetMet == false)

        let latency = Measurement(
            id: "l", section: "S", title: "p50", unit: "ms", higherIsBetter: false,
            swift: Sample([0.5]), python: Sample([2.5]), target: .atMost(0.5))
        #expect(latency.ratio == 5, "for costs the ratio is Python ÷ Swift")
        #expect(latency.targetMet == true)

        let alone = Measurement(
            id: "a", section: "S", title: "frame", unit: "ms", higherIsBetter: false, swift: Sample([6]), python: nil,
            target: .atMost(5))
        #expect(alone.ratio == nil)
        #expect(alone.targetMet == false)
        #expect(Measurement(id: "x", section: "S", title: "t", unit: "u", higherIsBetter: true, swift: nil, python: nil, target: .atLeast(1)).targetMet == nil)
    }

    @Test func tableGroupsRowsBySectionAndNumbersNotes() {
        let rows = [
            Measurement(id: "a", section: "Drain", title: "plain", unit: "tasks/s", higherIsBetter: true,
                        swift: Sample([60_000, 50_000, 55_000]), python: Sample([865, 800, 900]), target: .atLeast(50_000), note: "how"),
            Measurement(id: "b", section: "Drain", title: "events", unit: "tasks/s", higherIsBetter: true,
                        swift: Sample([20_000]), python: nil, target: .atLeast(30_000)),
            Measurement(id: "c", section: "Monitor", title: "frame", unit: "ms", higherIsBetter: false,
                        swift: Sample([1, 2, 3]), python: nil, note: "pty"),
            Measurement(id: "d", section: "Monitor", title: "cheaper", unit: "MB", higherIsBetter: false,
                        swift: Sample([10]), python: Sample([50])),
            Measurement(id: "e", section: "Monitor", title: "dearer", unit: "MB", higherIsBetter: false,
                        swift: Sample([12]), python: Sample([10])),
        ]
        let lines = ReportTable.markdown(rows).split(separator: "\n").map(String.init)
        #expect(lines[2] == "| **Drain** | | | | | |")
        #expect(lines[3] == "| plain [1] | tasks/s | 55,000 [50,000–60,000] | 865 [800–900] | 64× | ≥ 50,000 ✅ |")
        #expect(lines[4] == "| events | tasks/s | 20,000 | — | — | ≥ 30,000 ❌ |")
        #expect(lines[5] == "| **Monitor** | | | | | |")
        #expect(lines[6] == "| frame [2] | ms | 2.00 [1.00–3.00] | — | — |  |")
        #expect(lines[7] == "| cheaper | MB | 10.0 | 50.0 | 5.0× less |  |")
        #expect(lines[8] == "| dearer | MB | 12.0 | 10.0 | 1.2× more |  |")
        #expect(lines.suffix(2) == ["1. how", "2. pty"])
    }

    @Test func percentilesUseTheNearestRank() {
        let seed = TestSeed.value(default: 0x9E2C)
        var rng = SplitMix64(seed: seed)
        let values = (1...1000).map(Double.init).shuffled(using: &rng)
        #expect(Percentile.of(values, 0.5) == 500, "\(TestSeed.replay(seed))")
        #expect(Percentile.of(values, 0.99) == 990, "\(TestSeed.replay(seed))")
        #expect(Percentile.of([7], 0.99) == 7)
        #expect(Percentile.of([], 0.5).isNaN)
    }
}
