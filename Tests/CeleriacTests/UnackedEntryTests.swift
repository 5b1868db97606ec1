import Celeriac
import CeleriacTestTags
import Testing

@Suite(.tags(.unit)) struct UnackedEntryTests {
    @Test func splicesTheEnvelopeExactlyAsKombuStoresIt() throws {
        let envelope = try Samples.bytes("task_add_delay.json")
        let stored = try Samples.bytes("unacked_hash_value.json")
        #expect(UnackedEntry.encode(envelopeBytes: envelope, exchange: "", routingKey: "celery") == stored)
        let entry = try UnackedEntry.decode(stored)
        #expect(entry.envelope == envelope && entry.exchange == "" && entry.routingKey == "celery")
        #expect(try TaskMessage.decode(bytes: entry.envelope).id == "8bd1c012-b0f8-49ee-a1a5-341a16517ca8")
    }

    @Test func escapesExchangeAndRoutingKey() throws {
        let bytes = UnackedEntry.encode(envelopeBytes: Array(#"{"body": ""}"#.utf8), exchange: "ex\"é", routingKey: "q\n")
        #expect(String(decoding: bytes, as: UTF8.self) == #"[{"body": ""}, "ex\"\u00e9", "q\n"]"#)
        let back = try UnackedEntry.decode(bytes)
        #expect(back.exchange == "ex\"é" && back.routingKey == "q\n")
    }

    @Test func rejectsOtherShapes() {
        for text in ["", "{}", "[1, 2, 3]", #"[{}, "", 3]"#, #"[{}, ""]"#] {
            #expect(throws: ProtocolError.self, "\(text)") { try UnackedEntry.decode(Array(text.utf8)) }
        }
    }
}
