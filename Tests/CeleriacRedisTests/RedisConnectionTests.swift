@testable import Celeriac
import CeleriacTestSupport
import Foundation
import CeleriacTestTags
import Testing

@Suite("RedisConnection against a private redis-server", .tags(.integration))
struct RedisConnectionTests {
    let server: RedisServer
    let connection: RedisConnection

    init() throws {
        server = try RedisServer.start()
        connection = try RedisConnection(url: server.url)
    }

    @Test func roundTripsBinaryBytesIncludingNULAndUTF8() throws {
        let key = "\(#function):k"
        let value: [UInt8] = [0, 1, 2, 0, 255, 254, 0x0D, 0x0A] + Array("héllo ☃ \u{0} end".utf8)
        #expect(try connection.send(RedisCommand("SET", key, value)) == .status("OK"))
        #expect(try connection.send(RedisCommand("GET", key)).bytes == value)
        #expect(try connection.send(RedisCommand("STRLEN", key)).int == value.count)
        let binaryKey: [UInt8] = Array(key.utf8) + [0, 0xFF]
        _ = try connection.send(RedisCommand("SET", binaryKey, "x"))
        #expect(try connection.send(RedisCommand("GET", binaryKey)).string == "x")
        #expect(try connection.send(RedisCommand("GET", key)).string == String(decoding: value, as: UTF8.self))
    }

    @Test func roundTripsOneMegabyteValue() throws {
        let key = "\(#function):big"
        let value = (0..<1_048_576).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 8) }
        _ = try connection.send(RedisCommand("SET", key, value))
        #expect(try connection.send(RedisCommand("GET", key)).bytes == value)
    }

    @Test func pipelinesAThousandCommands() throws {
        let key = "\(#function):list"
        let pushes = (0..<1000).map { RedisCommand("RPUSH", key, "item-\($0)") }
        let replies = try connection.pipeline(pushes + [RedisCommand("LRANGE", key, 0, -1)])
        #expect(replies.count == 1001)
        #expect(replies[0] == .integer(1))
        #expect(replies[999] == .integer(1000))
        #expect(replies[1000].array?.map { $0.string } == (0..<1000).map { "item-\($0)" })
    }

    @Test func writesCommandsAsRESPWithEmptyAndManyArguments() throws {
        var out: [UInt8] = []
        RedisConnection.writeRESP([Array("SET".utf8), [], Array("0123456789".utf8)], into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "*3\r\n$3\r\nSET\r\n$0\r\n\r\n$10\r\n0123456789\r\n")
        let key = "\(#function):set"
        let members = (0..<2_000).map { "m\($0)" } + [""]
        #expect(try connection.send(RedisCommand("SADD", arguments: [key] + members)).int == members.count)
        #expect(try connection.send(RedisCommand("SISMEMBER", key, "")).int == 1)
        // A buffer grown by a large value is dropped, and the next small command still goes out whole.
        _ = try connection.send(RedisCommand("SET", "\(#function):big", [UInt8](repeating: 7, count: 3 << 20)))
        #expect(try connection.send(RedisCommand("STRLEN", "\(#function):big")).int == 3 << 20)
    }

    @Test func runsMultiExecAtomically() throws {
        let key = "\(#function):n"
        let replies = try connection.transaction([
            RedisCommand("INCR", key), RedisCommand("INCRBY", key, 41), RedisCommand("GET", key),
        ])
        #expect(replies == [.integer(1), .integer(42), .bulk(Array("42".utf8))])
    }

    @Test func transactionReturnsRuntimeErrorsAsValues() throws {
        let key = "\(#function):s"
        _ = try connection.send(RedisCommand("SET", key, "text"))
        let replies = try connection.transaction([RedisCommand("INCR", key), RedisCommand("GET", key)])
        #expect(replies[0].errorMessage?.hasPrefix("ERR") == true)
        #expect(replies[1].string == "text")
    }

    @Test func transactionThrowsWhenACommandIsRejectedWhileQueueing() throws {
        let key = "\(#function):n"
        #expect {
            _ = try connection.transaction([RedisCommand("INCR", key), RedisCommand("NOSUCHCOMMAND")])
        } throws: { ($0 as? RedisError)?.code == .server }
        // Nothing ran, and the connection is still in sync.
        #expect(try connection.send(RedisCommand("GET", key)) == .null)
        #expect(try connection.send(RedisCommand("PING")) == .status("PONG"))
    }

    @Test func throwsErrorReplyFromSendButReturnsItFromPipeline() throws {
        let key = "\(#function):s"
        _ = try connection.send(RedisCommand("SET", key, "text"))
        do {
            _ = try connection.send(RedisCommand("LPUSH", key, "x"))
            Issue.record("expected WRONGTYPE")
        } catch {
            #expect(error.code == .server)
            #expect(error.message.hasPrefix("WRONGTYPE"))
            #expect(!error.isConnectionProblem)
        }
        let replies = try connection.pipeline([RedisCommand("LPUSH", key, "x"), RedisCommand("GET", key)])
        #expect(replies[0].errorMessage?.hasPrefix("WRONGTYPE") == true)
        #expect(replies[1].string == "text")
        #expect(connection.isConnected)
    }

    @Test func blockingPopTimeoutDoesNotKillContext() throws {
        let key = "\(#function):q"
        let started = ContinuousClock.now
        #expect(try connection.send(RedisCommand("BRPOP", key, 1)) == .null)
        #expect(ContinuousClock.now - started >= .milliseconds(900))
        #expect(connection.isConnected)
        #expect(try connection.send(RedisCommand("PING")) == .status("PONG"))
    }

    @Test func selectsDatabaseFromURL() throws {
        let key = "\(#function):k"
        var url3 = server.url
        url3.database = 3
        let db3 = try RedisConnection(url: url3)
        _ = try db3.send(RedisCommand("SET", key, "in-3"))
        #expect(try db3.send(RedisCommand("GET", key)).string == "in-3")
        #expect(try connection.send(RedisCommand("GET", key)) == .null)
        #expect(try db3.send(RedisCommand("GET", key)).string == "in-3")
    }

    @Test func connectsToLocalhostByName() throws {
        let url = try RedisURL(parsing: "redis://localhost:\(server.port!)/1")
        let byName = try RedisConnection(url: url)
        #expect(try byName.send(RedisCommand("PING")) == .status("PONG"))
    }

    @Test(.timeLimit(.minutes(1))) func failsQuicklyWhenConnectionIsRefused() throws {
        let port = try RedisServer.freeLoopbackPort()
        var options = RedisOptions()
        // An hour: the "refused" error, not a timeout, is what proves it was not waited out.
        options.connectTimeout = .seconds(3600)
        do {
            _ = try RedisConnection(url: RedisURL(endpoint: .tcp(host: "127.0.0.1", port: port)), options: options)
            Issue.record("connected to a closed port")
        } catch {
            #expect(error.code == .connectionFailed)
            #expect(error.isConnectionProblem)
            #expect(error.message.contains("refused"), "\(error.message)")
        }
    }

    @Test(.timeLimit(.minutes(1))) func readTimeoutAgainstSilentListenerThrowsTimeout() throws {
        let listener = try SilentListener()
        var options = RedisOptions()
        options.readTimeout = .milliseconds(300)
        let silent = try RedisConnection(
            url: RedisURL(endpoint: .tcp(host: "127.0.0.1", port: listener.port)), options: options)
        let started = ContinuousClock.now
        do {
            _ = try silent.send(RedisCommand("PING"))
            Issue.record("a silent listener answered")
        } catch {
            #expect(error.code == .timeout, "\(error)")
            #expect(error.isConnectionProblem)
        }
        let elapsed = ContinuousClock.now - started
        // A lower bound a slow machine cannot break; the `.timeout` code proves the timeout fired
        // (the silent listener never answers, and the time limit catches a read that never ends).
        #expect(elapsed >= .milliseconds(250))
        #expect(!silent.isConnected)
    }

    @Test func reconnectReplaysSelectAfterServerRestart() throws {
        let key = "\(#function):k"
        var url = server.url
        url.database = 5
        let db5 = try RedisConnection(url: url)
        try server.restart()
        do {
            _ = try db5.send(RedisCommand("PING"))
        } catch {
            #expect(error.code == .connectionLost)
            #expect(!db5.isConnected)
        }
        try db5.reconnect()
        _ = try db5.send(RedisCommand("SET", key, "five"))
        var check = server.url
        check.database = 5
        #expect(try RedisConnection(url: check).send(RedisCommand("GET", key)).string == "five")
    }
}

@Suite("RedisConnection over a unix socket", .tags(.integration))
struct RedisUnixSocketTests {
    @Test func talksOverUnixSocket() throws {
        let server = try RedisServer.start(unixSocket: true)
        #expect(server.port == nil)
        let url = try RedisURL(parsing: server.urlString + "&db=2")
        #expect(url.database == 2)
        let connection = try RedisConnection(url: url)
        _ = try connection.send(RedisCommand("SET", "\(#function):k", "v"))
        #expect(try connection.send(RedisCommand("GET", "\(#function):k")).string == "v")
        #expect(try connection.send(RedisCommand("CLIENT", "INFO")).string?.contains("db=2") == true)
    }
}

@Suite("RedisConnection authentication", .tags(.integration))
struct RedisAuthenticationTests {
    @Test func authenticatesWithPassword() throws {
        let server = try RedisServer.start(password: "pa ss:w@rd")
        #expect(server.urlString.contains("pa%20ss%3Aw%40rd"))
        let connection = try RedisConnection(url: RedisURL(parsing: server.urlString))
        #expect(try connection.send(RedisCommand("PING")) == .status("PONG"))
        #expect(!"\(server.url)".contains("pa ss"))
    }

    @Test func authenticatesAsACLUser() throws {
        let server = try RedisServer.start(aclUser: (name: "celery", password: "acl-secret"))
        let connection = try RedisConnection(url: server.url)
        #expect(try connection.send(RedisCommand("ACL", "WHOAMI")).string == "celery")
    }

    @Test func wrongPasswordFailsWithAuthenticationFailedAndNoPassword() throws {
        let server = try RedisServer.start(password: "right-one")
        var url = server.url
        url.password = "wrong-one-xyz"
        do {
            _ = try RedisConnection(url: url)
            Issue.record("authenticated with a wrong password")
        } catch {
            #expect(error.code == .authenticationFailed)
            #expect(!error.isConnectionProblem)
            #expect(error.message.contains("auth"))
            for text in [error.description, error.message, "\(error)", String(reflecting: error)] {
                #expect(!text.contains("wrong-one-xyz"), "\(text)")
                #expect(!text.contains("right-one"))
            }
        }
        url.username = "nobody"
        #expect { _ = try RedisConnection(url: url) } throws: {
            ($0 as? RedisError)?.code == .authenticationFailed
        }
    }

    @Test func missingPasswordIsAServerErrorOnFirstCommand() throws {
        let server = try RedisServer.start(password: "needed")
        var url = server.url
        url.password = nil
        let connection = try RedisConnection(url: url)
        #expect { _ = try connection.send(RedisCommand("PING")) } throws: {
            ($0 as? RedisError)?.message.hasPrefix("NOAUTH") == true
        }
    }
}
