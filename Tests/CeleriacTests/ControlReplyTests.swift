import Celeriac
import CeleriacTestTags
import Testing

@Suite(.tags(.unit)) struct ControlReplyTests {
    /// Each captured reply is rebuilt from its parts (node, result, the command's ticket and
    /// reply address, the worker's clock, the captured tag) and must match byte for byte.
    @Test(arguments: WireSamples.answered)
    func reencodesEveryCapturedReplyFromItsParts(command name: String) throws {
        let command = try ControlCommand.decode(payload: try WireSamples.bytes(name + ".json"))
        let original = try WireSamples.bytes(name + "_REPLY.json")
        let reply = try ControlReply.decode(original)
        let body = try JSONParser.parse(try WireSamples.bytes(name + "_REPLY.body.json"))

        #expect(reply.nodeName == "w1@vm")
        #expect(reply.result == body["w1@vm"])
        #expect(reply.ticket == command.ticket)
        #expect(reply.replyRoutingKey == command.replyTo?.routingKey)
        let clock = try #require(reply.clock)
        let tag = try #require(try KombuEnvelope.decode(original).deliveryTag)

        let encoded = ControlReply.encode(
            nodeName: "w1@vm", result: try #require(body["w1@vm"]), ticket: try #require(command.ticket), clock: clock,
            replyRoutingKey: try #require(command.replyTo?.routingKey), deliveryTag: tag)
        #expect(WireSamples.ascii(encoded) == WireSamples.ascii(original))
        #expect(WireSamples.ascii(reply.encode(deliveryTag: tag)) == WireSamples.ascii(original))
        #expect(try KombuEnvelope.decode(encoded).body == WireSamples.bytes(name + "_REPLY.body.json"))
    }

    @Test(arguments: WireSamples.answered)
    func repliesGoToTheClientsReplyList(command name: String) throws {
        let command = try ControlCommand.decode(payload: try WireSamples.bytes(name + ".json"))
        let oid = try #require(command.replyTo?.routingKey)
        #expect(try WireSamples.text(name + "_REPLY.key.txt") == "LPUSH " + ControlNames.replyQueue(oid: oid))
    }

    @Test func decodesTheTicketAndClockHeaders() throws {
        let reply = try ControlReply.decode(try WireSamples.bytes("control_hello_mingle_REPLY.json"))
        #expect(reply.ticket == "d4cfd4dd-a71a-4158-a9ca-cded26b61f6b")
        #expect(reply.clock == 4)
        #expect(reply.result == .object(["revoked": ["11111111-2222-3333-4444-555555555555"], "clock": 8]))
    }

    @Test func writesNullForAMissingTicket() throws {
        let r = ControlReply(nodeName: "w@h", result: ControlReplyBody.pong, ticket: nil, clock: nil, replyRoutingKey: nil)
        let envelope = try KombuEnvelope.decode(r.encode(deliveryTag: "t"))
        #expect(envelope.headers["ticket"] == .null)
        #expect(envelope.headers["clock"] == 0)
        #expect(try ControlReply.decode(r.encode(deliveryTag: "t")).ticket == nil)
    }

    @Test(arguments: [
        (Array("{".utf8), ProtocolError.Code.invalidJSON),
        (KombuEnvelope(body: Array("[1]".utf8), properties: ["body_encoding": "base64"]).encoded(), .wrongType),
        (KombuEnvelope(body: Array("{}".utf8), properties: ["body_encoding": "base64"]).encoded(), .missingField),
        (KombuEnvelope(body: Array("{\"a\": 1}".utf8), headers: ["ticket": 5], properties: ["body_encoding": "base64"]).encoded(), .wrongType),
        (Array(#"{"body": "e30=x", "properties": {"body_encoding": "base64"}}"#.utf8), .invalidBase64),
    ])
    func rejectsMalformedReplies(payload: [UInt8], code: ProtocolError.Code) {
        let error = #expect(throws: ProtocolError.self) { try ControlReply.decode(payload) }
        #expect(error?.code == code, "\(String(describing: error))")
    }
}
