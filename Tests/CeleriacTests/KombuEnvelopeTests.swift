import Celeriac
import CeleriacTestTags
import Testing

@Suite(.tags(.unit)) struct KombuEnvelopeTests {
    static func envelope(body: String, headers: String = #"{"lang": "py", "task": "t", "id": "i"}"#,
                         properties: String = #"{"body_encoding": "base64", "delivery_tag": "tag"}"#) -> [UInt8] {
        Array(#"{"body": "\#(body)", "content-encoding": "utf-8", "content-type": "application/json", "headers": \#(headers), "properties": \#(properties)}"#.utf8)
    }

    static func b64(_ text: String) -> String {
        KombuEnvelope(body: Array(text.utf8)).encoded().split(separator: UInt8(ascii: "\""))[3]
            .map { Character(Unicode.Scalar($0)) }.reduce(into: "") { $0.append($1) }
    }

    @Test func decodesBodyAndAccessors() throws {
        let e = try KombuEnvelope.decode(Samples.bytes("task_kwargs_priority5.json"))
        #expect(e.body == (try Samples.bytes("task_kwargs_priority5.body.json")))
        #expect(e.deliveryTag == "eb3204b2-77fd-483d-b885-468f78129024")
        #expect(e.exchange == "" && e.routingKey == "celery" && e.priority == 5 && !e.redelivered)
        #expect(e.encoded() == (try Samples.bytes("task_kwargs_priority5.json")))
    }

    @Test func base64ToleratesWhitespaceLikePython() throws {
        let e = try KombuEnvelope.decode(Self.envelope(body: #"W1sy\nLCAz\r\nXSwge30s IHt9XQ=="#))
        #expect(String(decoding: e.body, as: UTF8.self) == "[[2, 3], {}, {}]")
    }

    @Test func base64RoundTripsEveryLengthAndByteAndFallsBackMidBody() throws {
        // Every padding case and every byte value through the whole-quad fast path.
        for n in 0..<300 {
            let body = (0..<n).map { UInt8(truncatingIfNeeded: $0 * 7 + n) }
            #expect(try KombuEnvelope.decode(KombuEnvelope(body: body).encoded()).body == body, "length \(n)")
        }
        // Whitespace, padding and foreign bytes after many good quads: the general loop takes over there.
        let text = "[[2, 3], {}, {}]"
        let good = Self.b64(text + text + text)
        let spaced = String(good.prefix(40)) + "\\n " + String(good.dropFirst(40))
        #expect(String(decoding: try KombuEnvelope.decode(Self.envelope(body: spaced)).body, as: UTF8.self) == text + text + text)
        let padded = Self.b64(text + text + text + "x")
        #expect(padded.hasSuffix("=="))
        for bad in [String(good.prefix(40)) + "!!!!", padded + "AAAA", String(good.dropLast(4)) + "A=A="] {
            #expect(throws: ProtocolError.self) { try KombuEnvelope.decode(Self.envelope(body: bad)) }
        }
    }

    @Test func bodyWithoutEncodingIsTakenAsText() throws {
        let e = try KombuEnvelope.decode(Self.envelope(body: #"[[1], {}, {}]"#, properties: #"{"delivery_tag": "x"}"#))
        #expect(try TaskMessage.decode(e).args == [1])
    }

    static let malformed: [(String, [UInt8], ProtocolError.Code)] = [
        ("empty bytes", [], .invalidJSON),
        ("not JSON", Array("hello".utf8), .invalidJSON),
        ("truncated JSON", Array(#"{"body": "W1s"#.utf8), .invalidJSON),
        ("envelope is a list", Array("[1, 2]".utf8), .wrongType),
        ("no body", Array(#"{"headers": {}}"#.utf8), .missingField),
        ("body not a string", Array(#"{"body": 5, "properties": {"body_encoding": "base64"}}"#.utf8), .wrongType),
        ("bad base64 characters", envelope(body: "W1s!!!"), .invalidBase64),
        ("missing base64 padding", envelope(body: "W1syLCAzXSwge30sIHt9XQ"), .invalidBase64),
        ("unknown body encoding", envelope(body: "x", properties: #"{"body_encoding": "rot13"}"#), .unsupportedContentType),
        ("headers not an object", envelope(body: "", headers: "[]"), .wrongType),
    ]

    @Test(arguments: malformed) func malformedEnvelopesThrowTypedErrors(label: String, bytes: [UInt8], code: ProtocolError.Code) {
        do {
            _ = try KombuEnvelope.decode(bytes)
            Issue.record("\(label) decoded")
        } catch {
            #expect(error.code == code, "\(label): \(error)")
            #expect(!error.description.contains("\n"))
        }
    }

    static let malformedTasks: [(String, [UInt8], ProtocolError.Code)] = [
        ("missing task header (v1)", envelope(body: b64("[[], {}, {}]"), headers: #"{"id": "i"}"#), .unsupportedProtocol),
        ("task header not a string", envelope(body: b64("[[], {}, {}]"), headers: #"{"task": 1, "id": "i"}"#), .wrongType),
        ("missing id", envelope(body: b64("[[], {}, {}]"), headers: #"{"task": "t"}"#), .missingField),
        ("body not a list", envelope(body: b64(#"{"args": []}"#)), .wrongType),
        ("args not a list", envelope(body: b64(#"[{"a": 1}, {}, {}]"#)), .wrongType),
        ("kwargs not an object", envelope(body: b64("[[], [], {}]")), .wrongType),
        ("embed not an object", envelope(body: b64("[[], {}, 5]")), .wrongType),
        ("body too short", envelope(body: b64("[[]]")), .missingField),
        ("body not JSON", envelope(body: b64("[[1, 2]")), .invalidJSON),
        ("retries a string", envelope(body: b64("[[], {}, {}]"), headers: #"{"task": "t", "id": "i", "retries": "x"}"#), .wrongType),
        ("eta not a date", envelope(body: b64("[[], {}, {}]"), headers: #"{"task": "t", "id": "i", "eta": "soon"}"#), .wrongType),
        ("timelimit wrong shape", envelope(body: b64("[[], {}, {}]"), headers: #"{"task": "t", "id": "i", "timelimit": [1]}"#), .wrongType),
        ("timelimit wrong member", envelope(body: b64("[[], {}, {}]"), headers: #"{"task": "t", "id": "i", "timelimit": ["a", null]}"#), .wrongType),
        ("priority a float", envelope(body: b64("[[], {}, {}]"), properties: #"{"body_encoding": "base64", "delivery_tag": "t", "priority": 1.5}"#), .wrongType),
        ("no delivery tag", envelope(body: b64("[[], {}, {}]"), properties: #"{"body_encoding": "base64"}"#), .missingField),
        ("pickle content type", Array(#"{"body": "", "content-type": "application/x-python-serialize", "headers": {"task": "t", "id": "i"}, "properties": {"delivery_tag": "t"}}"#.utf8), .unsupportedContentType),
    ]

    @Test(arguments: malformedTasks) func malformedTasksThrowTypedErrors(label: String, bytes: [UInt8], code: ProtocolError.Code) {
        do {
            _ = try TaskMessage.decode(bytes: bytes)
            Issue.record("\(label) decoded")
        } catch {
            #expect(error.code == code, "\(label): \(error)")
        }
    }

    @Test func hundredMegabyteArgumentDecodesOrIsRefusedBySize() throws {
        let size = 100 * 1024 * 1024
        var body = Array(#"[[""#.utf8)
        body.append(contentsOf: repeatElement(UInt8(ascii: "x"), count: size))
        body.append(contentsOf: #""], {}, {}]"#.utf8)
        let envelope = KombuEnvelope(body: body, headers: ["task": "t", "id": "i"], properties: ["delivery_tag": "tag"])
        let bytes = envelope.encoded()
        #expect(bytes.count > 130_000_000)
        #expect(throws: ProtocolError(.tooLarge, "envelope: \(bytes.count) bytes > limit 1048576")) {
            try TaskMessage.decode(bytes: bytes, maxSize: 1 << 20)
        }
        let back = try TaskMessage.decode(bytes: bytes)
        #expect(back.args.first?.stringValue?.utf8.count == size)
    }

    @Test func errorDescriptionIsOneShortLine() {
        let e = ProtocolError(.wrongType, "headers.retries: expected int, got string")
        #expect(e.description == "wrongType: headers.retries: expected int, got string")
    }
}
