import Celeriac
import Foundation
import Glibc
import Synchronization

/// The worker's handle on one pool child process: its pid, the pipe jobs go down, and a
/// dedicated thread that reads the child's replies and notices its death.
///
/// Replies and the exit are delivered through a one-slot mailbox that one job at a time awaits
/// (``next()``), so async code never blocks on the pipe. The reader waits for the child's exit
/// without reaping it first (`waitid` with `WNOWAIT`), marks it dead, then reaps it, so
/// ``signal(_:)`` never hits a recycled pid.
final class PoolChild: Sendable {
    /// What a job waiting on the child hears next.
    enum Event: Sendable {
        case reply(PoolReply)
        /// The child is gone; `status` is its wait status.
        case exited(status: Int32)
    }

    private struct Mailbox {
        var replies: [PoolReply] = []
        var waiter: CheckedContinuation<Event, Never>?
        var exitStatus: Int32?
        var dead = false
        var requestsClosed = false
        /// A job is being written: closing the pipe waits for the writer, so the descriptor is
        /// never closed (and maybe reused) under it.
        var writing = false
        var closeAfterWrite = false
        var signalled = false
        var tookJob = false
    }

    let pid: pid_t
    /// The child's number in this pool (1, 2, …), used in its log name.
    let number: Int
    private let requestFD: Int32
    private let mailbox = Mutex<Mailbox>(Mailbox())

    /// Starts a child running `command`, hands it to `registered`, then starts its reader
    /// thread; `onExit` runs on that thread once the child is gone and reaped.
    static func spawn(_ command: PoolChildCommand, number: Int, logLevel: String, registered: (PoolChild) -> Void,
                      onExit: @escaping @Sendable (PoolChild, Int32) -> Void) throws -> PoolChild {
        let (pid, requestFD, replyFD) = try command.spawn(number: number, logLevel: logLevel)
        let child = PoolChild(pid: pid, number: number, requestFD: requestFD)
        registered(child)
        Thread.detachNewThread {
            child.readReplies(from: replyFD)
            close(replyFD)
            let status = child.reap()
            onExit(child, status)
        }
        return child
    }

    private init(pid: pid_t, number: Int, requestFD: Int32) {
        self.pid = pid
        self.number = number
        self.requestFD = requestFD
    }

    var isAlive: Bool { mailbox.withLock { !$0.dead } }

    /// Whether it ever acknowledged a job (so it started up as a pool child should).
    var tookJob: Bool { mailbox.withLock { $0.tookJob } }

    /// Whether the worker signalled it (hard limit, terminate, shutdown): its death was expected.
    var wasSignalled: Bool { mailbox.withLock { $0.signalled } }

    /// Sends a job; false if the child is gone (or was told to stop).
    func send(_ request: PoolRequest) async -> Bool {
        let open = mailbox.withLock { m -> Bool in
            guard !m.dead && !m.requestsClosed else { return false }
            m.writing = true
            return true
        }
        guard open else { return false }
        let sent = await PoolPipe.writeFrame(request.json, to: requestFD)
        let close = mailbox.withLock { m -> Bool in
            m.writing = false
            return m.closeAfterWrite
        }
        if close { Glibc.close(requestFD) }
        return sent
    }

    /// The next reply, or the child's exit.
    func next() async -> Event {
        await withCheckedContinuation { continuation in
            let ready: Event? = mailbox.withLock { m in
                if !m.replies.isEmpty { return .reply(m.replies.removeFirst()) }
                if let status = m.exitStatus { return .exited(status: status) }
                m.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// Sends `signum` to the child unless it is already dead (never to a reaped, maybe reused pid).
    func signal(_ signum: Int32) {
        mailbox.withLock { m in
            guard !m.dead else { return }
            m.signalled = true
            kill(pid, signum)
        }
    }

    /// Closes the job pipe: the child finishes what it runs, reads end-of-file and exits.
    func closeRequests() {
        let close = mailbox.withLock { m -> Bool in
            guard !m.requestsClosed else { return false }
            m.requestsClosed = true
            if m.writing {
                m.closeAfterWrite = true
                return false
            }
            return true
        }
        if close { Glibc.close(requestFD) }
    }

    // MARK: the reader thread

    private func readReplies(from fd: Int32) {
        while let frame = PoolPipe.readFrame(from: fd) {
            // A frame that is not a reply means a broken child: treat it as gone.
            guard let reply = PoolReply(json: frame) else {
                kill(pid, SIGKILL)
                break
            }
            deliver(.reply(reply))
        }
    }

    private func deliver(_ event: Event) {
        let waiter = mailbox.withLock { m -> CheckedContinuation<Event, Never>? in
            if case .reply(.started) = event { m.tookJob = true }
            if let w = m.waiter {
                m.waiter = nil
                return w
            }
            if case .reply(let r) = event { m.replies.append(r) }
            return nil
        }
        waiter?.resume(returning: event)
    }

    /// Waits for the child to end (it closed its reply pipe, so it is exiting or exited), marks it
    /// dead before reaping so no signal can reach a recycled pid, reaps it, and hands out the status.
    private func reap() -> Int32 {
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR {}
        mailbox.withLock { $0.dead = true }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        closeRequests()
        let waiter = mailbox.withLock { m -> CheckedContinuation<Event, Never>? in
            m.exitStatus = status
            defer { m.waiter = nil }
            return m.waiter
        }
        waiter?.resume(returning: .exited(status: status))
        return status
    }
}
