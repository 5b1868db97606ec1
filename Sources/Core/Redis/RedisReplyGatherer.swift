import Synchronization

/// Collects the replies of a pipeline sent as several requests (``RedisClient/pipeline(chunks:_:)``)
/// and hands them over, in chunk order, once the last one completed.
///
/// Completions arrive on the connection thread (or the caller's, when the client is closed);
/// the one waiter may start waiting before or after they do.
final class RedisReplyGatherer: Sendable {
    private struct State {
        var chunks: [[RedisReply]]
        var remaining: Int
        var failure: RedisError?
        var waiter: CheckedContinuation<Result<[RedisReply], RedisError>, Never>?
    }

    private let state: Mutex<State>

    init(chunks: Int) {
        state = Mutex(State(chunks: Array(repeating: [], count: chunks), remaining: chunks))
    }

    /// Records chunk `index`'s outcome; the first failure is the one reported.
    func complete(_ index: Int, _ result: Result<[RedisReply], RedisError>) {
        let finished = state.withLock { s -> (CheckedContinuation<Result<[RedisReply], RedisError>, Never>, Result<[RedisReply], RedisError>)? in
            switch result {
            case .success(let replies): s.chunks[index] = replies
            case .failure(let error): if s.failure == nil { s.failure = error }
            }
            s.remaining -= 1
            guard s.remaining == 0, let waiter = s.waiter else { return nil }
            s.waiter = nil
            return (waiter, Self.outcome(&s))
        }
        if let (waiter, outcome) = finished { waiter.resume(returning: outcome) }
    }

    /// Every chunk's replies concatenated in order, or the first error.
    func replies() async -> Result<[RedisReply], RedisError> {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { s -> Result<[RedisReply], RedisError>? in
                guard s.remaining == 0 else {
                    s.waiter = continuation
                    return nil
                }
                return Self.outcome(&s)
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    private static func outcome(_ s: inout State) -> Result<[RedisReply], RedisError> {
        if let failure = s.failure { return .failure(failure) }
        let all = s.chunks.count == 1 ? s.chunks[0] : Array(s.chunks.joined())
        s.chunks = []
        return .success(all)
    }
}
