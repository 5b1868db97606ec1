import Celeriac
import Foundation
import CeleriacTestTags
import Testing

@Suite(.tags(.unit)) struct DeadLetterTests {
    @Test func roundTripsWithLossyMessageText() throws {
        let time = CeleryDate.parse("2026-11-25T01:59:22.347288+00:00")!
        let letter = DeadLetter(reason: "invalidBase64: body", queue: "celery", time: time, worker: "w1@vm",
            rawMessage: Array("{\"body\": \"".utf8) + [0xFF, 0xFE])
        #expect(letter.message == "{\"body\": \"\u{FFFD}\u{FFFD}")
        let text = String(decoding: letter.encoded(), as: UTF8.self)
        #expect(text == #"{"reason": "invalidBase64: body", "queue": "celery", "time": "2026-11-25T01:59:22.347288+00:00", "worker": "w1@vm", "message": "{\"body\": \"\ufffd\ufffd"}"#)
        #expect(try DeadLetter.decode(letter.encoded()) == letter)
        #expect(DeadLetter.listKey == "celeriac.dead_letter")
        #expect(throws: ProtocolError.self) { try DeadLetter.decode(Array(#"{"reason": "x"}"#.utf8)) }
    }
}
