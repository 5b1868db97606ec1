import Celeriac
import CeleriacTestTags
import Testing

@Suite(.tags(.unit)) struct QueueKeysTests {
    @Test(arguments: [(-5, 0), (0, 0), (1, 0), (2, 0), (3, 3), (4, 3), (5, 3), (6, 6), (8, 6), (9, 9), (10, 9), (255, 9)])
    func priorityBucketsDownToKombuSteps(priority: Int, step: Int) {
        #expect(QueueKeys.priorityStep(priority) == step)
    }

    @Test func listKeysMatchWhatPythonPushedTo() {
        #expect(QueueKeys.list(queue: "celery", priority: 0) == "celery")
        #expect(QueueKeys.list(queue: "celery", priority: 2) == "celery")
        #expect(Array(QueueKeys.list(queue: "celery", priority: 5).utf8) == Array("celery".utf8) + [0x06, 0x16, UInt8(ascii: "3")])
        #expect(QueueKeys.list(queue: "celery", priority: 9) == "celery\u{06}\u{16}9")
    }

    @Test func consumeOrderIsStepMajor() {
        let s = QueueKeys.separator
        #expect(QueueKeys.consumeOrder(queues: ["celery"]) == ["celery", "celery\(s)3", "celery\(s)6", "celery\(s)9"])
        #expect(QueueKeys.consumeOrder(queues: ["a", "b"]) == ["a", "b", "a\(s)3", "b\(s)3", "a\(s)6", "b\(s)6", "a\(s)9", "b\(s)9"])
        #expect(QueueKeys.consumeOrder(queues: []) == [])
    }

    @Test func bindingMembersRoundTrip() throws {
        let m = QueueKeys.bindingMember(routingKey: "celery", queue: "celery")
        #expect(Array(m.utf8) == Array("celery".utf8) + [6, 0x16, 6, 0x16] + Array("celery".utf8))
        let pidbox = QueueKeys.bindingMember(routingKey: "", queue: "w1@vm.celery.pidbox")
        let parts = try #require(QueueKeys.parseBindingMember(pidbox))
        #expect(parts.routingKey == "" && parts.pattern == "" && parts.queue == "w1@vm.celery.pidbox")
        #expect(QueueKeys.parseBindingMember("no separators") == nil)
        #expect(QueueKeys.bindingKey(exchange: "celery") == "_kombu.binding.celery")
        #expect(QueueKeys.resultKey(taskID: "x") == "celery-task-meta-x")
    }
}
