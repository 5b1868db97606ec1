import Foundation
import Glibc
import Synchronization

/// How the worker starts a pool child: by default the running binary itself
/// (`/proc/self/exe`), which sees ``PoolChildCommand/environmentKey`` and serves jobs instead of
/// parsing the command line (``WorkerCommand/run(tasks:arguments:)`` checks it first).
///
/// A program that builds a ``Worker`` without ``WorkerCommand`` either calls
/// ``WorkerCommand/runPoolChildIfRequested(tasks:)`` at the top of `main`, or points
/// ``WorkerSettings/poolChild`` at a binary that does.
public struct PoolChildCommand: Sendable, Hashable {
    /// Set (to the child's number) in a pool child's environment.
    public static let environmentKey = "CELERIAC_POOL_CHILD"
    /// The worker's pid, so an orphaned child notices its parent is gone.
    static let parentKey = "CELERIAC_POOL_PARENT"
    /// The worker's log level, so a child logs like its parent.
    static let logLevelKey = "CELERIAC_POOL_LOGLEVEL"

    public var executable: String
    public var arguments: [String]
    /// Added to (and overriding) the worker's own environment.
    public var environment: [String: String]

    public init(executable: String, arguments: [String] = [], environment: [String: String] = [:]) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
    }

    /// The running binary, named as it was started.
    public static var currentProcess: PoolChildCommand {
        PoolChildCommand(executable: "/proc/self/exe", arguments: [CommandLine.arguments.first ?? "qworker"])
    }

    /// Spawns the child with its job pipe on fd 3 and its reply pipe on fd 4 (stdin from
    /// /dev/null is not needed: stdin, stdout and stderr are the worker's, so task output and the
    /// child's log lines land where the worker's do). Every other descriptor is closed, signal
    /// dispositions and the mask are reset to defaults.
    /// - Returns: the pid, the parent's (non-blocking) write end of the job pipe and its read end
    ///   of the reply pipe.
    func spawn(number: Int, logLevel: String) throws -> (pid: pid_t, requests: Int32, replies: Int32) {
        // One spawn at a time: a pipe is briefly inheritable before it is moved (there is no
        // pipe2 in Swift's Glibc), and no other child may be started in that moment.
        try Self.spawning.withLock { _ in try spawnAlone(number: number, logLevel: logLevel) }
    }

    private static let spawning = Mutex<Void>(())

    private func spawnAlone(number: Int, logLevel: String) throws -> (pid: pid_t, requests: Int32, replies: Int32) {
        let jobs = try Self.pipe()
        let replies: (read: Int32, write: Int32)
        do { replies = try Self.pipe() } catch {
            close(jobs.read); close(jobs.write)
            throw error
        }
        defer {
            // The child's ends live on in the child only.
            close(jobs.read)
            close(replies.write)
        }
        _ = fcntl(jobs.write, F_SETFL, fcntl(jobs.write, F_GETFL) | O_NONBLOCK)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, jobs.read, 3)
        posix_spawn_file_actions_adddup2(&actions, replies.write, 4)
        _ = Self.addCloseFrom?(&actions, 5)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        // The worker ignores or traps SIGTERM/SIGINT/SIGPIPE for itself; a child must die of a
        // terminate's SIGTERM, so every catchable signal starts at its default.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signum: Int32 in 1..<32 where signum != SIGKILL && signum != SIGSTOP { sigaddset(&defaults, signum) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(Int32(POSIX_SPAWN_SETSIGMASK) | Int32(POSIX_SPAWN_SETSIGDEF)))

        var environment = ProcessInfo.processInfo.environment.merging(self.environment) { _, new in new }
        environment[Self.environmentKey] = String(number)
        environment[Self.parentKey] = String(getpid())
        environment[Self.logLevelKey] = logLevel
        let argv = (arguments.isEmpty ? [executable] : arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard rc == 0 else {
            close(jobs.write)
            close(replies.read)
            throw PoolError("cannot start a pool process from \(executable): \(String(cString: strerror(rc)))")
        }
        return (pid, jobs.write, replies.read)
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), which Swift's Glibc module does
    /// not expose (it is a GNU extension). Our own pipes are close-on-exec anyway; this also keeps
    /// descriptors opened without that flag (hiredis' sockets) out of the children.
    private static let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    /// A close-on-exec pipe whose descriptors sit above 4, so duplicating them onto 3 and 4 in
    /// the child never collides with themselves.
    private static func pipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        guard Glibc.pipe(&fds) == 0 else { throw PoolError("cannot make a pipe: \(String(cString: strerror(errno)))") }
        let moved = fds.map { fd -> Int32 in
            let high = fcntl(fd, F_DUPFD_CLOEXEC, 5)
            close(fd)
            return high
        }
        guard moved.allSatisfy({ $0 >= 0 }) else { throw PoolError("cannot move a pipe: \(String(cString: strerror(errno)))") }
        return (moved[0], moved[1])
    }
}

/// A pool child could not be started.
struct PoolError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
