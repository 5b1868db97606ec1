import Celeriac
import CeleriacTestSupport
import CeleriacTestTags
import Foundation
import Testing

/// Typed tasks across languages: a Python client calls typed Swift tasks (the demo tasks) by
/// keyword, mixed and wrongly; a Swift client calls Python tasks through typed handles.
@Suite(.tags(.integration), .serialized, .timeLimit(.minutes(3))) struct TypedTasksInteropTests {
    @Test func pythonClientCallsTypedSwiftTasksWithKeywords() async throws {
        let h = try InteropHarness()
        defer { h.close() }
        let worker = try h.startSwiftWorker(arguments: ["-c", "2"])
        defer { worker.stopNow() }
        let lines = try await h.runPython("pyclient.py", ["kwargs"])
        let byLabel = Dictionary(lines.compactMap { l in l["label"]?.stringValue.map { ($0, l) } }, uniquingKeysWith: { a, _ in a })

        #expect(byLabel["add_kwargs"]?["result"] == .int(42), "\(lines)\n\(worker.output)")
        #expect(byLabel["add_mixed"]?["result"] == .int(42))
        #expect(byLabel["flaky_kwargs"]?["result"] == .int(1))
        #expect(byLabel["tsum_list"]?["result"] == .double(6.5))
        #expect(byLabel["tsum_kwargs"]?["result"] == .int(9))
        let typeErrors: [(String, String)] = [
            ("too_many", "demo.add() takes 2 positional arguments but 3 were given"),
            ("missing", "demo.add() missing 1 required argument: 'y'"),
            ("unexpected", "demo.add() got an unexpected keyword argument 'z'"),
            ("twice", "demo.add() got multiple values for argument 'x'"),
        ]
        for (label, message) in typeErrors {
            let line = try #require(byLabel[label], "\(lines)")
            #expect(line["state"] == "FAILURE", "\(label)")
            #expect(line["exc_type"] == "TypeError", "\(label)")
            #expect(line["exc_args"] == [.string(message)], "\(label)")
        }
    }

    @Test func swiftClientCallsPythonTasksThroughTypedHandles() async throws {
        let h = try InteropHarness()
        defer { h.close() }
        let worker = try h.startPythonWorker()
        defer { worker.stopNow() }
        let client = try await h.client()
        defer { client.close() }

        // Declared (key, failures): sent positionally in that order, as flaky.delay("typed", 0);
        // the other order would make Python compare 0 < "typed" and raise TypeError.
        let flaky = TaskHandle<FlakyArguments, Int>(name: "demo.flaky")
        #expect(try await client.delay(flaky, .init(key: "typed", failures: 0)).get(timeout: .seconds(60)) == 1, "\(worker.output)")
        let tsum = TaskHandle<SumArguments, Double>(name: "demo.tsum")
        #expect(try await client.delay(tsum, .init(nums: [1, 2, 3.5])).get(timeout: .seconds(20)) == 6.5)

        // A FAILURE surfaces as the untyped API's TaskFailedError.
        let fail = TaskHandle<FailArguments, String>(name: "demo.fail")
        await #expect { try await client.delay(fail, .init(message: "typed boom")).get(timeout: .seconds(20)) } throws: { error in
            let failed = error as? TaskFailedError
            return failed?.state == .failure && failed?.exception?.type == "ValueError" && failed?.exception?.message == ["typed boom"]
        }

        // What went on the wire: positional arguments in declaration order, no keywords.
        var options = TaskSendOptions()
        options.queue = "nobody-consumes"
        let parked = try await client.send(flaky, .init(key: "k", failures: 3), options: options)
        let probe = try await RedisClient.connect(url: h.server.url, logger: .init(label: "probe"))
        defer { probe.close() }
        let raw = try #require(try await probe.send(RedisCommand("LINDEX", "nobody-consumes", 0)).bytes)
        let message = try TaskMessage.decode(bytes: raw)
        #expect(message.id == parked.id)
        #expect(message.name == "demo.flaky")
        #expect(message.args == ["k", 3])
        #expect(message.kwargs.isEmpty)
    }
}

private struct FlakyArguments: Codable, Sendable {
    var key: String
    var failures: Int
}

private struct SumArguments: Codable, Sendable {
    var nums: [Double]
}

private struct FailArguments: Codable, Sendable {
    var message: String
}
