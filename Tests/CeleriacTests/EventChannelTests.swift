import Celeriac
import CeleriacTestTags
import Testing

@Suite(.tags(.unit)) struct EventChannelTests {
    @Test(arguments: WireSamples.events)
    func namesTheChannelEachCaptureWasPublishedOn(name: String) throws {
        let channel = try WireSamples.text(name + ".channel.txt")
        let key = try #require(try KombuEnvelope.decode(try WireSamples.bytes(name + ".json")).routingKey)
        #expect(EventChannel.name(db: 0, routingKey: key) == channel)
        #expect(EventChannel.routingKey(of: channel) == key)
    }

    @Test func buildsPatternsFromBindingKeys() {
        #expect(EventChannel.pattern(db: 0) == "/0.celeryev/*")
        #expect(EventChannel.pattern(db: 0, bindingKey: "worker.#") == "/0.celeryev/worker.*")
        #expect(EventChannel.pattern(db: 5) == "/5.celeryev/*")
    }

    @Test func namesSyncMarkersUnderTheMonitorsPattern() {
        let marker = EventChannel.syncMarker(db: 3, token: "abc")
        #expect(marker == "/3.celeryev/qmon.sync.abc")
        #expect(EventChannel.routingKey(of: marker) == "qmon.sync.abc")
        #expect(marker.hasPrefix(EventChannel.syncMarkerPrefix(db: 3)))
        #expect(!marker.hasPrefix(EventChannel.syncMarkerPrefix(db: 0)))
    }

    @Test func omitsTheSlashForAnEmptyRoutingKey() {
        #expect(EventChannel.name(db: 0, routingKey: "") == "/0.celeryev")
        #expect(EventChannel.routingKey(of: "/0.celeryev") == "")
    }

    @Test func rejectsChannelsOfOtherExchanges() {
        #expect(EventChannel.routingKey(of: "/0.celery.pidbox") == nil)
        #expect(EventChannel.routingKey(of: "/0.celeryevx/task.multi") == nil)
        #expect(EventChannel.routingKey(of: "celery-task-meta-x") == nil)
        #expect(EventChannel.routingKey(of: "") == nil)
    }
}
