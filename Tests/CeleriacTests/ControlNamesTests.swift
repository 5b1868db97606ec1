import Celeriac
import Foundation
import CeleriacTestTags
import Testing

@Suite(.tags(.unit)) struct ControlNamesTests {
    @Test func namesTheBroadcastChannelAndExchanges() {
        #expect(ControlNames.broadcastChannel(db: 0) == "/0.celery.pidbox")
        #expect(ControlNames.broadcastChannel(db: 3) == "/3.celery.pidbox")
        #expect(ControlNames.broadcastExchange() == "celery.pidbox")
        #expect(ControlNames.replyExchange() == "reply.celery.pidbox")
        #expect(ControlNames.broadcastChannel(db: 0, namespace: "app") == "/0.app.pidbox")
    }

    @Test func namesTheReplyListAndItsBinding() {
        let oid = "61dce6e9-aab8-3706-9688-72d5283c4531"
        #expect(ControlNames.replyQueue(oid: oid) == oid + ".reply.celery.pidbox")
        #expect(ControlNames.replyBindingSet() == "_kombu.binding.reply.celery.pidbox")
        #expect(ControlNames.replyBindingMember(oid: oid) == oid + "\u{06}\u{16}\u{06}\u{16}" + oid + ".reply.celery.pidbox")
    }

    /// The member a Python client SADDed, as captured by MONITOR (`\x06\x16` escaped there).
    @Test func replyBindingMemberMatchesWhatPythonClientsAdd() throws {
        let log = String(decoding: try WireSamples.bytes("monitor.log"), as: UTF8.self)
        let prefix = #""SADD" "_kombu.binding.reply.celery.pidbox" ""#
        let line = try #require(log.split(separator: "\n").first { $0.contains(prefix) })
        let start = try #require(line.range(of: prefix)).upperBound
        let member = String(line[start...].dropLast()).replacingOccurrences(of: #"\x06\x16"#, with: "\u{06}\u{16}")
        let oid = try #require(member.split(separator: "\u{06}").first).description
        #expect(ControlNames.replyBindingMember(oid: oid) == member)
    }

    @Test func namesTheWorkersOwnPidboxQueue() {
        #expect(ControlNames.workerQueue(nodeName: "w1@vm") == "w1@vm.celery.pidbox")
        #expect(ControlNames.workerBindingSet() == "_kombu.binding.celery.pidbox")
        #expect(ControlNames.workerBindingMember(nodeName: "w1@vm") == "\u{06}\u{16}\u{06}\u{16}w1@vm.celery.pidbox")
    }
}
