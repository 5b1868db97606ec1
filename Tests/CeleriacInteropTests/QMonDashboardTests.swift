import Celeriac
import CeleriacTestSupport
import Foundation
import CeleriacTestTags
import Testing

/// The real `qmon` dashboard in tmux, against a real redis-server with Swift and Python workers:
/// what an operator sees and does.
@Suite(.tags(.integration), .serialized, .timeLimit(.minutes(3))) struct QMonDashboardTests {
    private static let host = ProcessInfo.processInfo.hostName

    private func dashboard(_ h: InteropHarness, _ extra: String = "") throws -> TmuxSession {
        let qmon = TestEnvironment.binDirectory.appendingPathComponent("qmon").path
        return try TmuxSession(command: "\(qmon) --broker \(h.server.urlString) --action-log \(h.logs.file("actions.log")) \(extra)")
    }

    /// Waits for qmon's first screen. Generous: it includes starting the process, which at the
    /// start of the integration phase competes with dozens of suites for two cores (10 s was
    /// once too little); the wait ends as soon as the screen shows.
    @discardableResult
    private func firstScreen(_ tmux: TmuxSession) async throws -> String {
        try await tmux.waitFor("Overview", timeout: .seconds(30))
    }

    /// The screen's line that mentions `text` (the search prompt aside).
    private func line(_ screen: String, containing text: String) -> String? {
        screen.split(separator: "\n").first { $0.contains(text) && !$0.contains("search '") }.map(String.init)
    }

    @Test func aWorkerAppearsAndGoesOfflineAfterKill9() async throws {
        try await appearAndGoOffline(timed: false)
    }

    /// The same with the promised delays checked: a wall-clock threshold, so tagged `timing` and
    /// left out of the default run (`scripts/test.sh --timing`).
    @Test(.tags(.timing)) func aWorkerAppearsWithinThreeSecondsAndGoesOfflineSoonAfterKill9() async throws {
        try await appearAndGoOffline(timed: true)
    }

    private func appearAndGoOffline(timed: Bool) async throws {
        let h = try InteropHarness()
        defer { h.close() }
        let tmux = try dashboard(h)
        defer { tmux.kill() }
        try await firstScreen(tmux)
        try tmux.send("2")
        let worker = try h.startSwiftWorker(name: "appear", arguments: ["--without-mingle"])
        let started = ContinuousClock.now
        let node = "appear@\(Self.host)"
        try await tmux.waitFor(timeout: .seconds(timed ? 6 : 30), "\(node) online") { self.line($0, containing: node)?.lowercased().contains("online") == true }
        if timed {
            #expect(ContinuousClock.now - started < .seconds(3) + .milliseconds(500), "a started worker shows within 3 s (start-up included)")
        }
        worker.signal(SIGKILL)
        await worker.wait()
        let killed = ContinuousClock.now
        // Expiry is 2 × the 2 s heartbeat interval; the rest is margin for a loaded 2-core machine
        // (the test command runs many suites at once).
        try await tmux.waitFor(timeout: .seconds(timed ? 15 : 60), "\(node) offline") { self.line($0, containing: node)?.lowercased().contains("offline") == true }
        if timed { #expect(ContinuousClock.now - killed < .seconds(10)) }
    }

    @Test func aFailureShowsInTheFailuresScreenWithItsTraceback() async throws {
        let h = try InteropHarness()
        defer { h.close() }
        let worker = try h.startSwiftWorker(name: "fails", arguments: ["-E", "--without-mingle"])
        defer { worker.stopNow() }
        let tmux = try dashboard(h)
        defer { tmux.kill() }
        try await firstScreen(tmux)
        let client = try await h.client()
        defer { client.close() }
        _ = try await client.delay("demo.fail", "boom from tmux").wait(timeout: .seconds(20))
        try tmux.send("4")
        let failures = try await tmux.waitFor("ValueError")
        #expect(line(failures, containing: "demo.fail")?.contains("ValueError") == true, "\(failures)")
        try tmux.send("Enter")
        // The Failures screen already shows the latest traceback, so wait for what only the
        // task's detail screen shows: its state.
        let detail = try await tmux.waitFor("FAILURE")
        #expect(detail.contains("ValueError: boom from tmux"), "\(detail)")
        #expect(detail.contains("Traceback"))
    }

    @Test func terminateFromTheKeyboardEndsRunningTasksOnSwiftAndPythonWorkers() async throws {
        let h = try InteropHarness()
        defer { h.close() }
        let swift = try h.startSwiftWorker(name: "swiftside", arguments: ["-E", "-Q", "swiftq", "--without-mingle"])
        defer { swift.stopNow() }
        let python = try h.startPythonWorker(name: "pyside", arguments: ["-E", "-Q", "pyq"])
        defer { python.stopNow() }
        let tmux = try dashboard(h)
        defer { tmux.kill() }
        try await firstScreen(tmux)
        let client = try await h.client()
        defer { client.close() }
        var onSwift = TaskSendOptions()
        onSwift.queue = "swiftq"
        var onPython = TaskSendOptions()
        onPython.queue = "pyq"
        let sleepers = [try await client.send("demo.sleep", args: [60], options: onSwift),
                        try await client.send("demo.sleep", args: [60], options: onPython)]
        try tmux.send("3")
        for sleeper in sleepers {
            // The list shows 7 characters of an id; the search takes more.
            let short = String(sleeper.id.prefix(7))
            // Narrow the list to this task with search, wait until it runs, terminate it, confirm.
            try tmux.send("c", "/")
            try tmux.type(short)
            try tmux.send("Enter")
            try await tmux.waitFor(timeout: .seconds(40), "\(short) STARTED") { self.line($0, containing: short)?.contains("STARTED") == true }
            try tmux.send("t")
            try await tmux.waitFor("terminate")
            try tmux.send("y")
            let revoked = try await tmux.waitFor(timeout: .seconds(20), "\(short) REVOKED") { self.line($0, containing: short)?.contains("REVOKED") == true }
            #expect(line(revoked, containing: short)?.contains("terminated") == true, "\(revoked)")
            #expect(try await sleeper.wait(timeout: .seconds(20)).status == .revoked)
        }
        // The performer logs each action once the replies are collected (up to its reply timeout).
        let logPath = h.logs.file("actions.log")
        try await waitUntil(timeout: .seconds(10)) {
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            return log.components(separatedBy: "\n").filter { $0.contains(" ok terminate task") }.count == 2
        }
    }

    @Test func retryOfAFailedFlakyTaskProducesALinkedSuccess() async throws {
        let h = try InteropHarness()
        defer { h.close() }
        let worker = try h.startSwiftWorker(name: "retrier", arguments: ["-E", "--without-mingle"])
        defer { worker.stopNow() }
        let tmux = try dashboard(h)
        defer { tmux.kill() }
        try await firstScreen(tmux)
        let client = try await h.client()
        defer { client.close() }
        let failed = try await client.send("demo.flaky", args: ["tmux-key", 1])
        #expect(try await failed.wait(timeout: .seconds(20)).status == .failure)
        let short = String(failed.id.prefix(7))
        try tmux.send("3", "/")
        try tmux.type(short)
        try tmux.send("Enter")
        try await tmux.waitFor(timeout: .seconds(10), "\(short) FAILURE") { self.line($0, containing: short)?.contains("FAILURE") == true }
        try tmux.send("R")
        try await tmux.waitFor("retry")
        try tmux.send("y")
        let probe = try await RedisClient.connect(url: h.server.url, logger: .init(label: "probe"))
        defer { probe.close() }
        var newID: String?
        try await waitUntil(timeout: .seconds(10)) {
            newID = try await probe.send(RedisCommand("GET", FailedTaskStore.retriedAsKey(taskID: failed.id))).string
            return newID != nil
        }
        let resent = try #require(newID)
        #expect(try await client.result(id: resent).get(timeout: .seconds(20)) == .int(2))
        // The failed task's detail links to the retry.
        try tmux.send("Enter")
        try await tmux.waitFor(timeout: .seconds(10), "retried as \(resent.prefix(8))") { $0.contains("Retried as") && $0.contains(String(resent.prefix(7))) }
    }
}
