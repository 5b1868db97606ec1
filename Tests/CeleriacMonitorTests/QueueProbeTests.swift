import Celeriac
import CeleriacMonitor
import CeleriacTestTags
import Testing

@Suite(.tags(.integration)) struct QueueProbeTests {
    @Test func skipsInternalExchanges() {
        #expect(QueueProbe.isInternalBinding("_kombu.binding.celery.pidbox"))
        #expect(QueueProbe.isInternalBinding("_kombu.binding.reply.celery.pidbox"))
        #expect(QueueProbe.isInternalBinding("_kombu.binding.celeryev"))
        #expect(!QueueProbe.isInternalBinding("_kombu.binding.celery"))
        #expect(!QueueProbe.isInternalBinding("_kombu.binding.emails"))
    }

    @Test func readsQueueNamesFromBindingMembers() {
        let sep = QueueKeys.separator
        let names = QueueProbe.queueNames(fromMembers: [
            .array([.bulk(Array("celery\(sep)\(sep)celery".utf8)), .bulk(Array("garbage".utf8))]),
            .array([.bulk(Array("rk\(sep)\(sep)emails".utf8))]),
        ])
        #expect(names == ["celery", "emails"])
    }

    @Test func depthsAndNextTaskComeFromOneRoundTrip() {
        let commands = QueueProbe.depthCommands(queues: ["a", "b"])
        #expect(commands.count == 16)
        #expect(commands[0].arguments == [Array("LLEN".utf8), Array("a".utf8)])
        #expect(commands[4].arguments == [Array("LINDEX".utf8), Array("a".utf8), Array("-1".utf8)])
        #expect(commands[9].arguments[1] == Array("b\u{06}\u{16}3".utf8))

        let message: [UInt8] = Array(#"{"body": "", "headers": {"id": "next-id", "task": "demo.add"}}"#.utf8)
        let replies: [RedisReply] = [
            // a: empty at step 0, two at step 3 (whose oldest is next), one at step 9
            .integer(0), .integer(2), .integer(0), .integer(1), .null, .bulk(message), .null, .bulk(Array("x".utf8)),
            // b: an error reply reads as 0
            .error("WRONGTYPE"), .integer(0), .integer(0), .integer(0), .null, .null, .null, .null,
        ]
        let samples = QueueProbe.samples(from: replies, queues: ["a", "b"], sampledAt: 5)
        #expect(samples.map(\.name) == ["a", "b"])
        #expect(samples[0].depths.map(\.depth) == [0, 2, 0, 1] && samples[0].total == 3)
        #expect(samples[0].depths.map(\.priority) == [0, 3, 6, 9])
        #expect(samples[0].oldestTaskID == "next-id" && samples[0].sampledAt == 5)
        #expect(samples[1].total == 0 && samples[1].oldestTaskID == nil)
    }
}
