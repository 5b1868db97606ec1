import Celeriac
import CeleriacTestTags
import Testing

@Suite(.tags(.unit)) struct ControlCommandTests {
    private static func command(_ name: String) throws -> ControlCommand {
        try ControlCommand.decode(payload: try WireSamples.bytes(name + ".json"))
    }

    /// The captured commands re-encode byte for byte with their own delivery tag.
    @Test(arguments: WireSamples.commands)
    func reencodesEveryCapturedCommandByteForByte(name: String) throws {
        let original = try WireSamples.bytes(name + ".json")
        let command = try ControlCommand.decode(payload: original)
        let tag = try #require(try KombuEnvelope.decode(original).deliveryTag)
        let encoded = command.encode(deliveryTag: tag)
        #expect(WireSamples.ascii(encoded) == WireSamples.ascii(original))
        #expect(try KombuEnvelope.decode(encoded).body == WireSamples.bytes(name + ".body.json"))
        #expect(command.wantsReply == WireSamples.answered.contains(name))
    }

    @Test(arguments: [
        ("control_heartbeat_from_events_monitor", "heartbeat", [String]()),
        ("control_hello_mingle", "hello", ["from_node", "revoked"]),
        ("control_inspect_active", "active", ["safe"]),
        ("control_inspect_active_queues", "active_queues", []),
        ("control_inspect_clock", "clock", []),
        ("control_inspect_query_task", "query_task", ["ids"]),
        ("control_inspect_registered", "registered", ["taskinfoitems"]),
        ("control_inspect_reserved", "reserved", []),
        ("control_inspect_revoked", "revoked", []),
        ("control_inspect_scheduled", "scheduled", []),
        ("control_inspect_stats", "stats", []),
        ("control_ping", "ping", []),
        ("control_ping_destination", "ping", []),
        ("control_rate_limit", "rate_limit", ["task_name", "rate_limit"]),
        ("control_revoke_list_terminate_unknown_ids", "revoke", ["task_id", "terminate", "signal"]),
        ("control_revoke_no_terminate_no_reply", "revoke", ["task_id", "terminate", "signal"]),
        ("control_revoke_no_terminate_with_reply", "revoke", ["task_id", "terminate", "signal"]),
        ("control_revoke_terminate_SIGKILL_no_reply", "revoke", ["task_id", "terminate", "signal"]),
        ("control_revoke_terminate_SIGTERM_with_reply", "revoke", ["task_id", "terminate", "signal"]),
        ("control_unknown_command", "no_such_command", []),
    ])
    func decodesMethodArgumentsAndReplyAddress(name: String, method: String, argumentKeys: [String]) throws {
        let c = try Self.command(name)
        #expect(c.method == method)
        #expect(c.arguments.keys == argumentKeys)
        #expect(c.destination == (name == "control_ping_destination" ? ["w1@vm"] : nil))
        #expect(c.pattern == nil && c.matcher == nil)
        #expect(c.clock > 0 && c.expires > 1_795_000_000)
        let body = try JSONParser.parse(try WireSamples.bytes(name + ".body.json"))
        #expect(c.ticket == body["ticket"]?.stringValue)
        #expect(c.replyTo?.routingKey == body["reply_to"]?["routing_key"]?.stringValue)
        if let replyTo = c.replyTo { #expect(replyTo.exchange == "reply.celery.pidbox") }
        #expect((c.ticket == nil) == (c.replyTo == nil))
    }

    @Test func decodesRevokeArgumentsAsSent() throws {
        let list = try Self.command("control_revoke_list_terminate_unknown_ids")
        #expect(list.arguments["task_id"] == ["aaaaaaaa-0000-0000-0000-000000000002", "aaaaaaaa-0000-0000-0000-000000000003"])
        #expect(list.arguments["terminate"] == true && list.arguments["signal"] == "SIGTERM")
        let kill = try Self.command("control_revoke_terminate_SIGKILL_no_reply")
        #expect(kill.arguments["task_id"] == "480d615c-8c07-439b-903b-f631b4331285")
        #expect(kill.arguments["signal"] == "SIGKILL" && kill.ticket == nil && kill.clock == 10)
        let hb = try Self.command("control_heartbeat_from_events_monitor")
        #expect(hb.clock == 1 && hb.expires == 1795571889.3729024)
        let hello = try Self.command("control_hello_mingle")
        #expect(hello.arguments["from_node"] == "w3@vm" && hello.arguments["revoked"] == [])
    }

    @Test func encodesACommandBuiltByAClient() throws {
        let c = ControlCommand(
            method: "ping", ticket: "6df286e8-ea4f-4468-9e0f-cbc446724ba4",
            replyTo: .init(routingKey: "53fbd15a-e8af-3283-bdee-bf1fe3cf151e"), clock: 5, expires: 1795571971.470549)
        #expect(WireSamples.ascii(c.encode(deliveryTag: "63e16a07-925f-410d-b38b-3ebe340df38c")) == WireSamples.ascii(try WireSamples.bytes("control_ping.json")))
    }

    @Test func writesZeroExpiresAsAnIntegerLikePython() throws {
        let c = ControlCommand(method: "heartbeat", clock: 3)
        let envelope = try KombuEnvelope.decode(c.encode(deliveryTag: "t"))
        #expect(envelope.headers["expires"] == .int(0))
        #expect(String(decoding: envelope.body, as: UTF8.self)
            == #"{"method": "heartbeat", "arguments": {}, "destination": null, "pattern": null, "matcher": null}"#)
    }

    // MARK: addressing

    @Test func runsEverywhereWithoutDestinationOrPattern() throws {
        let ping = try Self.command("control_ping")
        #expect(ping.isAddressed(to: "w1@vm") && ping.isAddressed(to: "anything"))
        #expect(ControlCommand(method: "ping", destination: [], clock: 1).isAddressed(to: "w1@vm"))
        #expect(ControlCommand(method: "ping", pattern: "x*", clock: 1).isAddressed(to: "w1@vm"), "pattern without matcher is ignored")
    }

    @Test func runsOnlyOnListedDestinations() throws {
        let ping = try Self.command("control_ping_destination")
        #expect(ping.isAddressed(to: "w1@vm"))
        #expect(!ping.isAddressed(to: "w2@vm"))
        #expect(!ping.isAddressed(to: "w1@vm2"))
        let both = ControlCommand(method: "ping", destination: ["a@h"], pattern: "*", matcher: "glob", clock: 1)
        #expect(!both.isAddressed(to: "b@h"), "a destination wins over a pattern")
    }

    @Test(arguments: [
        ("w*@vm", "w1@vm", true), ("w*@vm", "x1@vm", false), ("w?@vm", "w12@vm", false), ("w??@vm", "w12@vm", true),
        ("w[12]@vm", "w1@vm", true), ("w[12]@vm", "w3@vm", false), ("w[!12]@vm", "w3@vm", true),
        ("w[0-9]@*", "w7@host", true), ("w[1@vm", "w[1@vm", true), ("*", "", true), ("celery@*", "celery@vm", true),
        ("w1", "w1@vm", false),
    ])
    func matchesGlobPatternsLikeFnmatch(pattern: String, node: String, expected: Bool) {
        #expect(ControlCommand(method: "ping", pattern: pattern, matcher: "glob", clock: 1).isAddressed(to: node) == expected)
    }

    @Test(arguments: [
        (#"w\d@"#, "w1@vm", true), ("vm", "w1@vm", false), ("w1@vm$", "w1@vm", true), ("(unclosed", "w1@vm", false),
    ])
    func matchesPCREPatternsFromTheStartLikeReMatch(pattern: String, node: String, expected: Bool) {
        #expect(ControlCommand(method: "ping", pattern: pattern, matcher: "pcre", clock: 1).isAddressed(to: node) == expected)
    }

    @Test func unknownMatchersAddressNobody() {
        #expect(!ControlCommand(method: "ping", pattern: "*", matcher: "regex", clock: 1).isAddressed(to: "w1@vm"))
    }

    // MARK: malformed input

    private static func envelope(body: String, headers: JSONObject = ["clock": 1, "expires": 0]) -> [UInt8] {
        KombuEnvelope(body: Array(body.utf8), headers: headers, properties: ["body_encoding": "base64"]).encoded()
    }

    @Test(arguments: [
        (Array("nope".utf8), ProtocolError.Code.invalidJSON),
        (Array(#"{"body": "%%%", "properties": {"body_encoding": "base64"}}"#.utf8), .invalidBase64),
        (envelope(body: "{"), .invalidJSON),
        (envelope(body: "[]"), .wrongType),
        (envelope(body: #"{"arguments": {}}"#), .missingField),
        (envelope(body: #"{"method": 1}"#), .wrongType),
        (envelope(body: #"{"method": "ping", "arguments": []}"#), .wrongType),
        (envelope(body: #"{"method": "ping", "destination": [1]}"#), .wrongType),
        (envelope(body: #"{"method": "ping", "destination": {}}"#), .wrongType),
        (envelope(body: #"{"method": "ping", "reply_to": {"exchange": "x"}}"#), .missingField),
        (envelope(body: #"{"method": "ping"}"#, headers: ["clock": "1"]), .wrongType),
        (envelope(body: #"{"method": "ping"}"#, headers: ["expires": "soon"]), .wrongType),
    ])
    func rejectsMalformedCommands(payload: [UInt8], code: ProtocolError.Code) {
        let error = #expect(throws: ProtocolError.self) { try ControlCommand.decode(payload: payload) }
        #expect(error?.code == code, "\(String(describing: error))")
    }

    @Test func toleratesMinimalCommands() throws {
        let c = try ControlCommand.decode(payload: Self.envelope(body: #"{"method": "ping", "destination": "w1@vm"}"#, headers: [:]))
        #expect(c.method == "ping" && c.arguments.isEmpty && c.destination == ["w1@vm"])
        #expect(c.clock == 0 && c.expires == 0 && !c.wantsReply)
    }
}
