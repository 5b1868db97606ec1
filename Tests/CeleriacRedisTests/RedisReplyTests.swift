import Celeriac
import CeleriacTestTags
import Testing

@Suite("RedisReply accessors and RedisError codes", .tags(.integration))
struct RedisReplyTests {
    @Test func accessorsDecodeOnDemand() {
        #expect(RedisReply.bulk(Array("42".utf8)).int == 42)
        #expect(RedisReply.bulk(Array("x".utf8)).int == nil)
        #expect(RedisReply.integer(7).int == 7)
        #expect(RedisReply.integer(7).string == nil)
        #expect(RedisReply.status("OK").string == "OK")
        #expect(RedisReply.status("OK").bytes == Array("OK".utf8))
        #expect(RedisReply.bulk([0, 0xFF]).bytes == [0, 0xFF])
        #expect(RedisReply.null.isNull)
        #expect(!RedisReply.bulk([]).isNull)
        #expect(RedisReply.array([.null]).array == [.null])
        #expect(RedisReply.error("ERR x").string == nil)
        #expect(RedisReply.error("ERR x").errorMessage == "ERR x")
    }

    @Test func onlyReachabilityFailuresAreConnectionProblems() {
        let problems: [RedisError.Code] = [.connectionFailed, .connectionLost, .timeout]
        let others: [RedisError.Code] = [.invalidURL, .authenticationFailed, .server, .protocolViolation, .closed]
        #expect(problems.allSatisfy { RedisError($0, "m").isConnectionProblem })
        #expect(others.allSatisfy { !RedisError($0, "m").isConnectionProblem })
        #expect("\(RedisError(.timeout, "no reply"))" == "RedisError.timeout: no reply")
    }

    @Test func commandArgumentsAreBytes() {
        let command = RedisCommand("ZADD", "k", 1.5, 3, Substring("m"), [0, 1] as [UInt8])
        #expect(command.arguments == [Array("ZADD".utf8), Array("k".utf8), Array("1.5".utf8), Array("3".utf8),
                                      Array("m".utf8), [0, 1]])
        #expect(RedisCommand("GET", arguments: ["a"]) == RedisCommand(arguments: [Array("GET".utf8), Array("a".utf8)]))
        #expect("\(RedisCommand("AUTH", "user", "pw"))" == "AUTH ***")
    }
}
