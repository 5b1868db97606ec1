@testable import CeleriacWorker
import Celeriac
import CeleriacTestSupport
import Foundation
import CeleriacTestTags
import Testing

/// The liveness window (`visibility_timeout`) and what follows from it.
@Suite(.tags(.integration)) struct LivenessWindowTests {
    @Test func theDefaultIsSixSecondsRefreshedEveryTwo() {
        let window = LivenessWindow()
        #expect(window.timeout == .seconds(6))
        #expect(window.refreshInterval == .seconds(2))
        #expect(window.fence == .seconds(6))
        #expect(window.milliseconds == 6000)
    }

    @Test func aShortWindowIsRefreshedThreeTimesWithinIt() {
        let window = LivenessWindow(seconds: 1.5)
        #expect(window.refreshInterval == .milliseconds(500))
        #expect(window.fence == .milliseconds(1500))
        #expect(window.milliseconds == 1500)
    }

    /// People set kombu's visibility_timeout to hours: refreshes stay at 2 s, and a lapse does
    /// not stop the worker taking messages for hours.
    @Test func aLongWindowKeepsRefreshingEveryTwoSecondsAndFencesBriefly() {
        let window = LivenessWindow(seconds: 43_200)
        #expect(window.refreshInterval == .seconds(2))
        #expect(window.fence == .seconds(6))
        #expect(window.milliseconds == 43_200_000)
    }

    @Test func valuesOutOfRangeNeverTrap() {
        #expect(LivenessWindow(seconds: 1e300).timeout == .longestWait)
        #expect(LivenessWindow(seconds: .infinity).milliseconds == 1_000_000_000_000)
        #expect(LivenessWindow(seconds: .nan).timeout == LivenessWindow.shortestTimeout)
        #expect(LivenessWindow(seconds: 0.2).timeout == LivenessWindow.shortestTimeout)
    }

    @Test func theRefreshSetsTheKeyForTheWindow() {
        let command = OrphanRecovery.refreshCommand(node: "w@h", incarnation: "abc", window: LivenessWindow(seconds: 30))
        #expect(command.arguments.map { String(decoding: $0, as: UTF8.self) } == ["SET", "celeriac.worker.w@h", "abc", "PX", "30000"])
    }

    /// kombu's name, read from the file (a nested mapping as in Celery's config), the
    /// environment (a flow mapping) and the flag, each overriding the one before.
    @Test func visibilityTimeoutIsReadFromFileEnvironmentAndFlag() throws {
        #expect(try WorkerCommand.parse([]).settings(environment: [:]).liveness == LivenessWindow())
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try "broker_transport_options:\n  visibility_timeout: 30\n".write(toFile: dir.file("celeriac.yaml"), atomically: true, encoding: .utf8)
        let file = ["--config", dir.file("celeriac.yaml")]
        #expect(try WorkerCommand.parse(file).settings(environment: [:]).liveness.timeout == .seconds(30))
        let env = ["CELERY_BROKER_TRANSPORT_OPTIONS": "{visibility_timeout: 12.5}"]
        #expect(try WorkerCommand.parse(file).settings(environment: env).liveness.timeout == .milliseconds(12_500))
        #expect(try WorkerCommand.parse(file + ["--visibility-timeout", "3"]).settings(environment: env).liveness.timeout == .seconds(3))
    }

    @Test func badTransportOptionsAreOneLineErrors() throws {
        func error(_ value: String) -> String {
            do {
                _ = try CeleriacConfig.load(environment: ["CELERY_BROKER_TRANSPORT_OPTIONS": value], workingDirectory: "/nonexistent")
                return ""
            } catch { return error.message }
        }
        #expect(error("{visibility_timeout: 0.5}").contains("visibility_timeout must be a number of seconds ≥ 1, not '0.5'"))
        #expect(error("{visibility_timeout: .inf}").contains("must be a number of seconds ≥ 1"))
        #expect(error("{visibility_timeout: soon}").contains("not 'soon'"))
        #expect(error("{fanout_prefix: true}").contains("unknown option 'fanout_prefix' (known: visibility_timeout)"))
        #expect(error("3600").contains("must be a mapping"))
        #expect(throws: (any Error).self) { try WorkerCommand.parse(["--visibility-timeout", "0"]) }
    }
}
