import Celeriac
import CeleriacMonitor
import CeleriacTestTags
import Testing

@Suite(.tags(.integration)) struct ViewStateTests {
    typealias F = DashboardFixture
    let model = F.model()

    private func press(_ keys: [Key], _ v: inout ViewState) -> [Effect] {
        keys.compactMap { k in KeyMap.command(for: k, textEntry: v.isTextEntry).map { v.handle($0, model: model) } }
    }

    @Test func navigatesBetweenScreensWithTabNumbersAndEsc() {
        var v = F.view()
        _ = press([.tab], &v)
        #expect(v.screen == .workers)
        _ = press([.backTab, .backTab], &v)
        #expect(v.screen == .queues)
        _ = press([.char("3")], &v)
        #expect(v.screen == .tasks)
        _ = press([.char("j"), .down, .enter], &v)
        #expect(v.screen == .taskDetail("long-1"))
        _ = press([.escape], &v)
        #expect(v.screen == .tasks)
        _ = press([.char("?")], &v)
        #expect(v.screen == .help)
        _ = press([.escape], &v)
        #expect(v.screen == .tasks)
        #expect(press([.char("q")], &v) == [.quit])
    }

    @Test func viKeysMoveAndClampTheSelection() {
        var v = F.view(.tasks)
        _ = press([.char("G")], &v)
        #expect(v.position(.tasks).selected == 18)
        _ = press([.char("j")], &v)
        #expect(v.position(.tasks).selected == 18)
        _ = press([.char("g")], &v)
        #expect(v.position(.tasks).selected == 0)
        _ = press([.pageDown], &v)
        #expect(v.position(.tasks).selected == ScreenGeometry.listHeight(.tasks, F.small))
        _ = press([.pageUp, .char("k")], &v)
        #expect(v.position(.tasks).selected == 0)
    }

    @Test func filterSearchAndSortChangeTheQuery() {
        var v = F.view(.tasks)
        _ = press([.char("f")], &v)
        #expect(v.query.state == .failure)
        _ = press([.char("s"), .char("s")], &v)
        #expect(v.query.sort == .name)
        _ = press([.char("/")] + "charge".map { Key.char($0) }, &v)
        #expect(v.isSearching && v.query.search == "charge")
        _ = press([.backspace, .enter], &v)
        #expect(!v.isSearching && v.query.search == "charg")
        _ = press([.char("/"), .char("x"), .escape], &v)
        #expect(v.query.search == "charg")
        #expect(v.currentListing(model: model).count(in: model) == 4)
        _ = press([.char("c")], &v)
        #expect(v.query == TaskQuery(sort: .name))
    }

    @Test func enterOnOverviewAndWorkersFiltersTheTaskList() {
        var v = F.view()
        _ = press([.char("j"), .enter], &v)
        #expect(v.screen == .tasks && v.query.name == "app.charge")
        _ = press([.escape, .char("2"), .enter], &v)
        #expect(v.screen == .tasks && v.query.worker == "w1@host")
    }

    @Test func revokeAsksForConfirmationThenPerforms() {
        var v = F.view(.tasks)
        _ = press([.char("j"), .char("r")], &v)
        #expect(v.dialog?.kind == .confirm(.revoke(taskIDs: ["term-1"], terminate: false, signal: "SIGTERM")))
        #expect(press([.char("y")], &v) == [.perform(.revoke(taskIDs: ["term-1"], terminate: false, signal: "SIGTERM"))])
        #expect(v.dialog == nil && v.status?.tone == .pending)
    }

    @Test func terminateMarkedTasksActsOnAllOfThem() {
        var v = F.view(.tasks)
        _ = press([.char(" "), .char(" ")], &v)  // marks exp-1 and term-1, moving down
        #expect(v.marked == ["exp-1", "term-1"])
        _ = press([.char("t")], &v)
        let action = MonitorAction.revoke(taskIDs: ["exp-1", "term-1"], terminate: true, signal: "SIGTERM")
        #expect(v.dialog?.kind == .confirm(action))
        #expect(press([.enter], &v) == [.perform(action)])
        #expect(v.marked.isEmpty)
    }

    @Test func markAllMatchingMarksTheFilteredList() {
        var v = F.view(.tasks)
        v.query.state = .failure
        _ = press([.char("a")], &v)
        #expect(v.marked == ["fail-0", "fail-1", "fail-2", "timeout-1"])
        _ = press([.char("a")], &v)
        #expect(v.marked.isEmpty)
    }

    @Test func retryOnlyForFailedTasks() {
        var v = F.view(.tasks)
        _ = press([.char("R")], &v)  // exp-1 is REVOKED
        #expect(v.dialog == nil && v.status?.text.contains("only failed tasks") == true)
        var f = F.view(.failures)
        _ = press([.char("R")], &f)
        #expect(f.dialog?.kind == .confirm(.retry(taskID: "timeout-1")))
        #expect(press([.char("y")], &f) == [.perform(.retry(taskID: "timeout-1"))])
    }

    @Test func purgeRequiresTypingTheQueueName() {
        var v = F.view(.queues)
        _ = press([.char("P")], &v)
        #expect(v.dialog?.kind == .typeToConfirm(.purge(queue: "celery"), expected: "celery"))
        #expect(press([.char("y")], &v) == [.redraw])  // "y" is just text here
        #expect(press([.enter], &v) == [.redraw])
        #expect(v.dialog != nil && v.status?.tone == .failure)
        _ = press([.backspace], &v)
        let effects = press("celery".map { Key.char($0) } + [.enter], &v)
        #expect(effects.last == .perform(.purge(queue: "celery")))
    }

    @Test func rateLimitPromptValidatesTheRate() {
        var v = F.view()
        _ = press([.char("l")], &v)
        #expect(v.dialog?.kind == .rateLimit(taskName: "app.add"))
        _ = press("fast".map { Key.char($0) } + [.enter], &v)
        #expect(v.dialog != nil)
        _ = press(Array(repeating: Key.backspace, count: 4) + "10/m".map { Key.char($0) }, &v)
        #expect(press([.enter], &v) == [.perform(.rateLimit(taskName: "app.add", rate: "10/m"))])
    }

    @Test func workerActionsTargetTheSelectedWorker() {
        var v = F.view(.workers)
        _ = press([.char("+")], &v)
        #expect(v.dialog?.kind == .confirm(.poolGrow(worker: "w1@host", n: 1)))
        _ = press([.char("n"), .char("j"), .char("x")], &v)
        #expect(v.dialog?.kind == .confirm(.shutdown(worker: "w2@host")))
        _ = press([.char("-")], &v)  // dialog holds keys: "-" is ignored
        #expect(v.dialog?.kind == .confirm(.shutdown(worker: "w2@host")))
    }

    @Test func escCancelsAnyDialog() {
        var v = F.view(.tasks)
        _ = press([.char("r"), .escape], &v)
        #expect(v.dialog == nil && v.status?.text == "cancelled")
        _ = press([.char("5"), .char("P"), .char("c"), .escape], &v)
        #expect(v.dialog == nil)
    }

    @Test func readOnlyBlocksEveryAction() {
        for screen: Screen in [.tasks, .workers, .queues, .failures, .overview] {
            var v = F.view(screen, readOnly: true)
            for key in ["r", "t", "R", "l", "+", "-", "x", "P"] {
                let effects = press([.char(Character(key))], &v)
                #expect(v.dialog == nil)
                #expect(!effects.contains { if case .perform = $0 { true } else { false } })
            }
            #expect(v.status?.text.contains("read-only") == true)
        }
    }

    @Test func pauseTogglesTheFlag() {
        var v = F.view()
        _ = press([.char("p")], &v)
        #expect(v.isPaused)
        _ = press([.char("p")], &v)
        #expect(!v.isPaused)
    }

    @Test func everyBoundKeyMapsToItsCommand() {
        for b in KeyMap.bindings {
            for k in b.keys {
                let c = KeyMap.command(for: k, textEntry: false)
                #expect(c != nil)
            }
        }
        #expect(KeyMap.command(for: .char("j"), textEntry: true) == .insert("j"))
    }
}
