import Celeriac
import Glibc

/// Length-prefixed JSON frames over a pipe between the worker and a pool child: a 4-byte
/// big-endian length, then that many bytes of JSON written by Core's `JSONWriter`.
///
/// Reads block, so only a thread that owns the pipe calls them: the child's main loop, or the
/// parent's per-child reader thread (never a cooperative thread of the parent). The parent writes
/// through a non-blocking descriptor (``writeFrame(_:to:)``) and waits asynchronously when the
/// pipe is full.
enum PoolPipe {
    /// A frame longer than this is a broken peer, not a task: 256 MiB.
    static let maximumFrame = 256 << 20

    /// The bytes of one frame carrying `value`.
    static func frame(_ value: JSONValue) -> [UInt8] {
        let body = value.serialized(style: .compact)
        let n = UInt32(body.count)
        return [UInt8(n >> 24), UInt8((n >> 16) & 0xff), UInt8((n >> 8) & 0xff), UInt8(n & 0xff)] + body
    }

    /// Reads one frame; `nil` at end of file, on a read error or a malformed frame (the peer is
    /// gone or broken either way, and the caller treats it as such).
    static func readFrame(from fd: Int32) -> JSONValue? {
        guard let header = readExactly(fd, 4) else { return nil }
        let n = Int(header[0]) << 24 | Int(header[1]) << 16 | Int(header[2]) << 8 | Int(header[3])
        guard n <= maximumFrame, let body = readExactly(fd, n) else { return nil }
        return try? JSONParser.parse(body)
    }

    /// Writes all of `bytes` to a blocking descriptor; false if the peer is gone.
    static func writeBlocking(_ bytes: [UInt8], to fd: Int32) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return false }
            offset += n
        }
        return true
    }

    /// Writes a frame to a non-blocking descriptor, napping (without holding a thread) while the
    /// pipe is full; false if the peer is gone.
    static func writeFrame(_ value: JSONValue, to fd: Int32) async -> Bool {
        let bytes = frame(value)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if n > 0 {
                offset += n
            } else if n < 0 && (errno == EAGAIN || errno == EINTR) {
                try? await Task.sleep(for: .milliseconds(1))
            } else {
                return false
            }
        }
        return true
    }

    private static func readExactly(_ fd: Int32, _ count: Int) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + offset, count - offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return nil }
            offset += n
        }
        return buffer
    }
}
