import Celeriac
import CeleriacMonitor
import CeleriacTestTags
import Testing

@Suite(.tags(.integration)) struct LayoutTests {
    typealias F = DashboardFixture
    let model = F.model()

    private func render(_ screen: Screen, _ size: TerminalSize, configure: (inout ViewState) -> Void = { _ in }) -> (Frame, [String]) {
        var v = F.view(screen, size: size)
        configure(&v)
        let frame = Layout.layout(model: model, view: v, size: size, now: F.now)
        return (frame, frame.lines)
    }

    private func expectFits(_ frame: Frame, _ size: TerminalSize) {
        #expect(frame.rows.count == size.rows)
        for row in frame.rows { #expect(DisplayWidth.of(row.text) <= size.columns, "too wide: \(row.text)") }
    }

    @Test(arguments: [DashboardFixture.small, DashboardFixture.large])
    func everyScreenFitsItsSize(size: TerminalSize) {
        for screen: Screen in [.overview, .workers, .tasks, .taskDetail("fail-0"), .failures, .queues, .help] {
            let (frame, _) = render(screen, size)
            expectFits(frame, size)
        }
    }

    @Test func overviewShowsHeaderSparklinesTaskTableAndQueues() {
        let (_, lines) = render(.overview, F.small)
        let text = lines.joined(separator: "\n")
        #expect(lines[0].contains("workers 1/2"))
        #expect(lines[0].contains("redis://:***@127.0.0.1:6379/0"))
        #expect(!text.contains("secret"))
        #expect(lines[1].contains("1 Overview") && lines[1].contains("5 Queues"))
        let ok = try! #require(lines.first { $0.hasPrefix("succeeded") })
        #expect(ok.contains("█"))
        #expect(ok.unicodeScalars.contains { ("▁"..."█").contains($0) })
        let failed = try! #require(lines.first { $0.hasPrefix("failed ") })
        #expect(failed.contains("█"))
        #expect(text.contains("TASK NAME") && text.contains("P95"))
        let charge = try! #require(lines.first { $0.hasPrefix("app.charge") })
        #expect(charge.contains(" 4 "))  // four failures (3 ValueError + 1 TimeoutError)
        let add = try! #require(lines.first { $0.hasPrefix("app.add") })
        #expect(add.contains("12"))
        #expect(lines[21].contains("Queues") && lines[21].contains("celery 43") && lines[21].contains("mail 0"))
    }

    @Test func overviewAt120ColumnsAddsTheLastErrorColumn() {
        let (_, wide) = render(.overview, F.large)
        let (_, narrow) = render(.overview, F.small)
        #expect(wide.joined().contains("LAST ERROR"))
        #expect(!narrow.joined().contains("LAST ERROR"))
        #expect(wide.first { $0.hasPrefix("app.charge") }!.contains("TimeoutError('slow')"))
    }

    @Test func workersShowLivenessPoolAndLoad() {
        let (_, lines) = render(.workers, F.large)
        let w1 = try! #require(lines.first { $0.hasPrefix("w1@host") })
        #expect(w1.contains("online 1s") && w1.contains("prefork") && w1.contains(" 8 ") && w1.contains("100"))
        #expect(w1.contains("0.50 0.25 0.10") && w1.contains("py-celery 5.7.0"))
        let w2 = try! #require(lines.first { $0.hasPrefix("w2@host") })
        #expect(w2.contains("OFFLINE"))
        // 80 columns keep name, status, active and processed; drop version first.
        let (_, small) = render(.workers, F.small)
        let s1 = try! #require(small.first { $0.hasPrefix("w1@host") })
        #expect(s1.contains("online") && s1.contains("16") && !s1.contains("py-celery"))
    }

    @Test func workersShowThePoolKindAsInspectStatsReportsIt() throws {
        let kinds = [
            "celery.concurrency.prefork:TaskPool": "prefork",  // Python Celery 5.7
            "celeriac.concurrency.async:AsyncPool": "async", "celeriac.concurrency.process:ProcessPool": "process",
            // Celeriac workers that named the kind only in the class.
            "celeriac:AsyncPool": "async", "celeriac:ProcessPool": "process",
        ]
        for (implementation, kind) in kinds {
            var model = F.model()
            model.mergeStats(["pool": ["implementation": .string(implementation)]], hostname: "w1@host")
            let lines = F.lines(model, F.view(.workers, size: F.large))
            let header = Array(try #require(lines.first { $0.hasPrefix("WORKER") }))
            let w1 = Array(try #require(lines.first { $0.hasPrefix("w1@host") }))
            let column = try #require(header.firstRange(of: Array("POOL"))).lowerBound
            let cell = String(w1[column..<min(w1.count, column + 8)].filter { $0 != " " })
            #expect(cell == kind, "\(implementation)")
        }
    }

    @Test func aLongTaskDoesNotTakeItsWorkerOffline() {
        // long-1 started ~25 s ago and is still running; heartbeats kept coming.
        let (_, lines) = render(.workers, F.small)
        #expect(lines.first { $0.hasPrefix("w1@host") }!.contains("online"))
    }

    @Test func tasksMarkRevokedTasksWithHowTheyWereRevoked() {
        let (_, lines) = render(.tasks, F.large)
        let term = try! #require(lines.first { $0.contains("term-1") || ($0.contains("REVOKED") && $0.contains("terminated")) })
        #expect(term.contains("REVOKED") && term.contains("terminated (SIGTERM)"))
        let exp = try! #require(lines.first { $0.contains("REVOKED") && $0.contains("expired") })
        #expect(exp.contains("expired"))
        #expect(lines[2].contains("of 19 tasks"))
        #expect(lines.contains { $0.contains("FAILURE") && $0.contains("ValueError('card") })
        #expect(lines.contains { $0.contains("STARTED") && $0.contains("app.report") })
    }

    @Test func tasksAt80ColumnsKeepStateNameAndInfo() {
        let (frame, lines) = render(.tasks, F.small)
        expectFits(frame, F.small)
        #expect(lines.contains { $0.contains("REVOKED") && $0.contains("terminated") })
        #expect(lines[3].contains("STATE") && lines[3].contains("NAME") && lines[3].contains("INFO"))
    }

    @Test func taskFilterAndSearchNarrowTheList() {
        let (_, lines) = render(.tasks, F.small) { $0.query = TaskQuery(state: .failure) }
        #expect(lines[2].contains("state FAILURE") && lines[2].contains("4 of 19 tasks"))
        let (_, searched) = render(.tasks, F.small) { $0.query.search = "TIMEOUT" }
        #expect(searched[2].contains("1 of 19 tasks"))
        #expect(searched.contains { $0.contains("TimeoutError") })
    }

    @Test func detailShowsEveryFieldTracebackAndTimeline() {
        let (_, lines) = render(.taskDetail("fail-0"), F.large)
        let text = lines.joined(separator: "\n")
        #expect(text.contains("Task         app.charge"))
        #expect(text.contains("ID           fail-0"))
        #expect(text.contains("State        FAILURE"))
        #expect(text.contains("Worker       w1@host"))
        #expect(text.contains("Args         (2, 3)"))
        #expect(text.contains("Exception    ValueError('card declined')"))
        #expect(text.contains("Traceback (most recent call last):"))
        #expect(text.contains("  ValueError: card declined"))
        #expect(text.contains("task-received") && text.contains("task-failed"))
        #expect(text.contains("1970-01-01 02:4"))  // wall-clock times, UTC in this fixture
    }

    @Test func detailWrapsLongArgumentsInsteadOfTruncating() {
        var s = ClusterState()
        let long = "(" + String(repeating: "x", count: 300) + "END)"
        s.apply(.taskReceived(EventScript.worker, clock: 1, timestamp: 1, uuid: "big", name: "app.big", args: long, kwargs: "{'emoji': '🎉漢字'}", rootID: "big", parentID: nil, retries: 0, eta: nil, expires: nil), receivedAt: 1)
        var v = F.view(.taskDetail("big"))
        v.size = F.small
        let frame = Layout.layout(model: s, view: v, size: F.small, now: 2)
        expectFits(frame, F.small)
        let text = frame.lines.joined()
        #expect(text.contains("END)"))
        #expect(text.filter { $0 == "x" }.count == 300)
        #expect(text.contains("🎉漢字"))
    }

    @Test func failuresAreGroupedWithCountsAndTracebackPreview() {
        let (_, lines) = render(.failures, F.small)
        let value = try! #require(lines.first { $0.contains("ValueError") && $0.contains("app.charge") })
        #expect(value.trimmingPrefixSpaces.hasPrefix("3 "))
        let timeout = try! #require(lines.first { $0.contains("TimeoutError") && $0.contains("app.charge") })
        #expect(timeout.trimmingPrefixSpaces.hasPrefix("1 "))
        #expect(lines.contains { $0.contains("latest: task") })
    }

    @Test func queuesShowDepthPerPriorityAndOldestWait() {
        let (_, lines) = render(.queues, F.small)
        let celery = try! #require(lines.first { $0.hasPrefix("celery") })
        #expect(celery.contains("43") && celery.contains("42") && celery.contains("1m15s"))
        #expect(lines[2].contains("sampled 2s ago"))
    }

    @Test func helpListsEveryKeyBindingOfTheKeyMap() {
        for size in [F.small, F.large, TerminalSize(rows: 60, columns: 100)] {
            var v = F.view(.help, size: size)
            var seen = ""
            // Scroll through the whole help.
            for _ in 0..<10 {
                seen += Layout.layout(model: model, view: v, size: size, now: F.now).lines.joined(separator: "\n")
                _ = v.handle(.pageDown, model: model)
            }
            for b in KeyMap.bindings {
                #expect(seen.contains(b.keyLabel), "help at \(size) lacks \(b.keyLabel)")
                #expect(seen.contains(b.help.prefix(20)), "help at \(size) lacks \(b.help)")
            }
        }
    }

    @Test func tooSmallTerminalGetsAPlainMessage() {
        let size = TerminalSize(rows: 20, columns: 70)
        let lines = F.lines(model, F.view(), size: size)
        #expect(lines[0] == "qmon needs at least 80×24 (now 70×20)")
        let tiny = Layout.layout(model: model, view: F.view(), size: TerminalSize(rows: 1, columns: 10), now: F.now)
        #expect(tiny.rows.count == 1 && tiny.rows[0].width <= 10)
    }

    @Test func pausedAndReadOnlyShowInTheHeader() {
        var v = F.view(readOnly: true)
        v.isPaused = true
        let lines = F.lines(model, v)
        #expect(lines[0].contains("PAUSED") && lines[0].contains("READ-ONLY"))
        #expect(!lines[23].contains("revoke"))
    }

    @Test func dialogReplacesTheStatusLine() {
        var v = F.view(.queues)
        _ = v.handle(.purgeQueue, model: model)
        let lines = F.lines(model, v)
        #expect(lines[22].contains("Purge queue celery") && lines[22].contains("Type 'celery'"))
    }
}

extension String {
    fileprivate var trimmingPrefixSpaces: Substring { self.drop { $0 == " " } }
}
