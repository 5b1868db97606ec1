public import Celeriac
internal import Foundation
#if canImport(Glibc)
public import Glibc
#elseif canImport(Darwin)
public import Darwin
#endif

/// A private redis-server for one test or suite, on a free loopback port or a unix socket in a
/// temp dir, stopped by pid.
///
/// Tests never touch port 6379 or a system service: every server is spawned here with its own
/// directory, no persistence unless asked for, and `--bind 127.0.0.1`. `deinit` stops it, so a
/// server held by a suite instance goes away with it.
public final class RedisServer: Sendable {
    /// The server's URL with the password (if any) set; its description is redacted.
    public let url: RedisURL
    /// The URL as text, including the password, for passing to CLIs under test.
    public let urlString: String
    /// The TCP port, or `nil` for a unix-socket server.
    public let port: Int?
    /// The unix socket path, or `nil` for a TCP server.
    public let socketPath: String?

    private let directory: TemporaryDirectory
    private let arguments: [String]
    private let state: ProcessState

    /// The current redis-server process id (changes on ``restart()``).
    public var pid: pid_t { state.withLock { $0.pid } }

    /// Starts a server and waits until it answers PING (at most 5 s per attempt).
    ///
    /// - Parameters:
    ///   - unixSocket: Listen on a unix socket in the temp dir instead of TCP.
    ///   - password: `requirepass` for the default user.
    ///   - aclUser: An extra ACL user with full access.
    ///   - persistent: Keep the data across ``restart()`` and ``kill()``: an append-only
    ///     file in the server's directory, fsynced before every reply (`appendfsync always`), so
    ///     whatever a client saw acknowledged survives even a crash, as fault tests need.
    public static func start(
        unixSocket: Bool = false, password: String? = nil, aclUser: (name: String, password: String)? = nil,
        persistent: Bool = false
    ) throws -> RedisServer {
        var lastError: (any Error)?
        for _ in 0..<5 {
            // A fresh directory per attempt: a failed attempt's deinit removes its own.
            let directory = try TemporaryDirectory(prefix: "celeriac-redis")
            do {
                return try RedisServer(
                    directory: directory, unixSocket: unixSocket, password: password, aclUser: aclUser,
                    persistent: persistent)
            } catch let error as RedisServerError where error.retryable {
                lastError = error
            }
        }
        throw lastError ?? RedisServerError("could not start redis-server", retryable: false)
    }

    private init(
        directory: TemporaryDirectory, unixSocket: Bool, password: String?,
        aclUser: (name: String, password: String)?, persistent: Bool
    ) throws {
        self.directory = directory
        var arguments = ["--bind", "127.0.0.1", "--save", "", "--dir", directory.path,
                         "--daemonize", "no", "--databases", "16"]
        arguments += persistent ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"]
        let endpoint: RedisURL.Endpoint
        if unixSocket {
            let path = directory.file("redis.sock")
            arguments += ["--port", "0", "--unixsocket", path, "--unixsocketperm", "700"]
            endpoint = .unix(path: path)
            port = nil
            socketPath = path
        } else {
            let free = try Self.freeLoopbackPort()
            arguments += ["--port", String(free)]
            endpoint = .tcp(host: "127.0.0.1", port: free)
            port = free
            socketPath = nil
        }
        if let password { arguments += ["--requirepass", password] }
        if let aclUser {
            arguments += ["--user", aclUser.name, "on", ">\(aclUser.password)", "~*", "&*", "+@all"]
        }
        self.arguments = arguments

        var url = RedisURL(endpoint: endpoint)
        if let aclUser {
            url.username = aclUser.name
            url.password = aclUser.password
        } else {
            url.password = password
        }
        self.url = url
        self.urlString = Self.unredacted(url)
        state = ProcessState(pid: 0)
        try launch()
    }

    deinit {
        stop()
        directory.remove()
    }

    /// Stops the server with SIGTERM and reaps it (SIGKILL after 5 s). Idempotent.
    public func stop() {
        terminate(signal: SIGTERM)
    }

    /// Kills the server with SIGKILL and reaps it, like a crash.
    public func kill() {
        terminate(signal: SIGKILL)
    }

    /// Stops the server (SIGTERM; a no-op if ``stop()`` or ``kill()`` already did) and starts it
    /// again on the same port or socket with the same config, for outage tests: with no data, or
    /// the data it had when started `persistent`. A long outage is `stop()`, an async sleep,
    /// then `restart()`.
    public func restart() throws {
        stop()
        // The port stays ours: redis-server sets SO_REUSEADDR, so TIME_WAIT does not block it.
        var lastError: (any Error)?
        for _ in 0..<20 {
            do {
                try launch()
                return
            } catch let error as RedisServerError where error.retryable {
                lastError = error
                usleep(50_000)
            }
        }
        throw lastError ?? RedisServerError("restart failed", retryable: false)
    }

    /// The server's log so far, for failure messages.
    public var log: String {
        (try? String(contentsOfFile: directory.file("redis.log"), encoding: .utf8)) ?? ""
    }

    // MARK: - Process handling

    private func launch() throws {
        let logPath = directory.file("redis.log")
        let pid = try Self.spawn(executable: Self.executable, arguments: arguments, logPath: logPath)
        let watchdog = Self.spawnWatchdog(serverPID: pid)
        state.withLock {
            $0.pid = pid
            $0.watchdog = watchdog.pid
            $0.watchdogPipe = watchdog.pipe
        }
        let deadline = ContinuousClock.now + .seconds(5)
        var options = RedisOptions()
        options.connectTimeout = .milliseconds(500)
        options.readTimeout = .seconds(2)
        while ContinuousClock.now < deadline {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                // Already reaped: never signal that pid again, only stop the watchdog.
                state.withLock { state in
                    state.pid = 0
                    Self.stopWatchdog(&state)
                }
                let log = self.log
                throw RedisServerError(
                    "redis-server exited during startup: \(log.suffix(500))",
                    retryable: log.contains("Address already in use") || log.contains("bind"))
            }
            if let connection = try? RedisConnection(url: url, options: options),
                (try? connection.send(RedisCommand("PING"))) == .status("PONG")
            {
                return
            }
            usleep(10_000)
        }
        terminate(signal: SIGKILL)
        throw RedisServerError("redis-server did not answer PING within 5 s: \(log.suffix(500))", retryable: false)
    }

    private func terminate(signal: Int32) {
        state.withLock { state in
            defer { Self.stopWatchdog(&state) }
            guard state.pid > 0 else { return }
            _ = Glibc.kill(state.pid, signal)
            var status: Int32 = 0
            let deadline = ContinuousClock.now + .seconds(5)
            while waitpid(state.pid, &status, WNOHANG) == 0 {
                if ContinuousClock.now > deadline {
                    _ = Glibc.kill(state.pid, SIGKILL)
                    _ = waitpid(state.pid, &status, 0)
                    break
                }
                usleep(2_000)
            }
            state.pid = 0
        }
    }

    /// Starts `sh` blocked reading a pipe whose only write end this process holds (close-on-exec,
    /// so no other child inherits it). When this process dies for any reason, even as a zombie
    /// nobody reaps, the kernel closes the write end, `read` returns and the server is killed.
    /// Without it a crashed or killed test run would leave servers running.
    private static func spawnWatchdog(serverPID: pid_t) -> (pid: pid_t, pipe: Int32) {
        spawnLock.lock()
        defer { spawnLock.unlock() }
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return (0, -1) }
        // Under spawnLock, so no spawn from this harness can inherit the ends before this.
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        defer { close(fds[0]) }
        guard
            let pid = try? spawnLocked(
                executable: "/bin/sh", arguments: ["-c", "read _; kill -KILL $0 2>/dev/null", String(serverPID)],
                logPath: "/dev/null", stdin: fds[0])
        else {
            close(fds[1])
            return (0, -1)
        }
        return (pid, fds[1])
    }

    private static func stopWatchdog(_ state: inout ProcessState.Value) {
        if state.watchdog > 0 {
            var status: Int32 = 0
            _ = Glibc.kill(state.watchdog, SIGKILL)
            _ = waitpid(state.watchdog, &status, 0)
            state.watchdog = 0
        }
        if state.watchdogPipe >= 0 {
            close(state.watchdogPipe)
            state.watchdogPipe = -1
        }
    }

    private static let executable: String = {
        for candidate in ["/usr/bin/redis-server", "/usr/local/bin/redis-server", "/opt/homebrew/bin/redis-server"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        return "/usr/bin/redis-server"
    }()

    /// Serialises spawning with watchdog pipe creation (see ``spawnWatchdog(serverPID:)``).
    private static let spawnLock = NSLock()

    private static func spawn(executable: String, arguments: [String], logPath: String) throws -> pid_t {
        spawnLock.lock()
        defer { spawnLock.unlock() }
        return try spawnLocked(executable: executable, arguments: arguments, logPath: logPath, stdin: nil)
    }

    private static func spawnLocked(
        executable: String, arguments: [String], logPath: String, stdin: Int32?
    ) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let stdin {
            posix_spawn_file_actions_adddup2(&actions, stdin, 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // The child inherits the spawning thread's signal mask and ignored signals (the test
        // runner blocks some, RedisConnection ignores SIGPIPE); reset both or SIGTERM is lost.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard result == 0 else {
            throw RedisServerError("cannot spawn \(executable): \(String(cString: strerror(result)))", retryable: false)
        }
        return pid
    }

    /// Binds 127.0.0.1:0, reads the port the kernel chose, and closes the socket.
    public static func freeLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RedisServerError("socket() failed", retryable: true) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw RedisServerError("cannot bind 127.0.0.1:0", retryable: true) }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    private static func unredacted(_ url: RedisURL) -> String {
        var userinfo = ""
        if let username = url.username { userinfo += percentEncoded(username) }
        if let password = url.password { userinfo += ":" + percentEncoded(password) }
        if !userinfo.isEmpty { userinfo += "@" }
        switch url.endpoint {
        case .tcp(let host, let port): return "redis://\(userinfo)\(host):\(port)/\(url.database)"
        case .unix(let path): return "unix://\(userinfo)\(path)?db=\(url.database)"
        }
    }

    private static func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }
}

/// Why a test server could not be started.
public struct RedisServerError: Error, CustomStringConvertible {
    public let description: String
    let retryable: Bool
    init(_ description: String, retryable: Bool) {
        self.description = description
        self.retryable = retryable
    }
}

/// The mutable pid of a ``RedisServer``, behind a lock.
///
/// `@unchecked Sendable` is sound: `value` is only read or written inside `lock.lock()` …
/// `unlock()` in ``withLock(_:)``, and both stored properties are otherwise immutable.
private final class ProcessState: @unchecked Sendable {
    struct Value {
        var pid: pid_t
        var watchdog: pid_t = 0
        var watchdogPipe: Int32 = -1
    }
    private let lock = NSLock()
    private var value: Value
    init(pid: pid_t) { value = Value(pid: pid) }
    func withLock<R>(_ body: (inout Value) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
