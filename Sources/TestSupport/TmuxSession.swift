import Foundation

/// A program running in its own tmux server (a private socket), driven like a person would:
/// keys in with `send-keys`, the screen out with `capture-pane`. The server is killed on
/// ``kill()`` or deinit, so no session outlives its test.
public final class TmuxSession: Sendable {
    public let name: String
    private let socket: String

    /// Starts `command` (a shell command line) in a `cols`×`rows` window with a UTF-8 locale.
    /// The program is given at most 3 minutes, so even a session nobody killed ends by itself.
    public init(command: String, cols: Int = 120, rows: Int = 35, environment: [String: String] = [:]) throws {
        name = "qmon"
        socket = "celeriac-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))"
        let env = (["LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "TERM": "xterm-256color"].merging(environment) { _, new in new })
            .map { "\($0.key)=\(Self.quote($0.value))" }.joined(separator: " ")
        // The new session's server inherits the client's stdout: never capture it, or reading
        // the pipe to its end waits for the server to exit.
        try run(["new-session", "-d", "-s", name, "-x", String(cols), "-y", String(rows), "env \(env) timeout --foreground 180 \(command); sleep 5"], capture: false)
    }

    /// Types keys (tmux key names such as `Enter`, `Escape`, or literal text).
    public func send(_ keys: String...) throws { try run(["send-keys", "-t", name] + keys, capture: false) }

    /// Types text literally, character by character.
    public func type(_ text: String) throws { try run(["send-keys", "-t", name, "-l", text], capture: false) }

    /// The visible screen as text.
    public func screen() -> String { (try? run(["capture-pane", "-p", "-t", name])) ?? "" }

    /// Waits until the screen satisfies `condition`; returns that screen, or throws with the last one.
    @discardableResult
    public func waitFor(timeout: Duration = .seconds(10), _ what: String, _ condition: (String) -> Bool) async throws -> String {
        let deadline = ContinuousClock.now + timeout
        var last = ""
        while ContinuousClock.now < deadline {
            last = screen()
            if condition(last) { return last }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TmuxTimeout(description: "screen never showed \(what) within \(timeout); last screen:\n\(last)")
    }

    /// Waits until `text` is on screen.
    @discardableResult
    public func waitFor(_ text: String, timeout: Duration = .seconds(10)) async throws -> String {
        try await waitFor(timeout: timeout, "'\(text)'") { $0.contains(text) }
    }

    /// Ends the session: `q` first (the program's own quit, which also restores its terminal),
    /// then the tmux server.
    public func kill() {
        _ = try? run(["send-keys", "-t", name, "q"], capture: false)
        usleep(300_000)
        _ = try? run(["kill-server"], capture: false)
    }

    deinit { kill() }

    /// Runs tmux with posix_spawn and a blocking waitpid: Foundation's `Process.waitUntilExit`
    /// was seen to hang here once the tmux client had exited (its server daemonises off it).
    @discardableResult
    private func run(_ arguments: [String], capture: Bool = true) throws -> String {
        let outPath = capture ? NSTemporaryDirectory() + "tmux-\(UUID().uuidString).out" : "/dev/null"
        defer { if capture { try? FileManager.default.removeItem(atPath: outPath) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = ["tmux", "-L", socket] + arguments
        var cArgs = argv.map { strdup($0) } + [nil]
        defer { for arg in cArgs { free(arg) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, "tmux", &actions, nil, &cArgs, environ)
        guard rc == 0 else { throw TmuxTimeout(description: "cannot start tmux: errno \(rc)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        guard capture else { return "" }
        return (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
    }

    private static func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}

public struct TmuxTimeout: Error, CustomStringConvertible {
    public let description: String
}
