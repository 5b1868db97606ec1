// Celeriac's own records in Redis: `unacked` entries and dead letters.
import Celeriac
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = fuzzInput(start, count)
    if let entry = try? UnackedEntry.decode(bytes) {
        _ = try? TaskMessage.decode(bytes: entry.envelope)
        let again = UnackedEntry.encode(envelopeBytes: entry.envelope, exchange: entry.exchange, routingKey: entry.routingKey)
        guard (try? UnackedEntry.decode(again)) != nil else { fatalError("re-encoded unacked entry does not decode") }
    }
    if let letter = try? DeadLetter.decode(bytes) {
        guard (try? DeadLetter.decode(letter.encoded())) != nil else { fatalError("re-encoded dead letter does not decode") }
    }
    return 0
}
