// Event messages as a monitor receives them (single events and `task.multi` batches): the
// fast decoder must agree with the general one, and decoded events must re-encode.
@testable import Celeriac
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = fuzzInput(start, count)
    let general = Result { () throws(ProtocolError) in try EventCodec.decodeGeneral(channel: nil, payload: bytes) }
    if let fast = EventFastDecoder.decode(bytes) {
        guard case .success(let g) = general else { fatalError("fast decoder accepted what the general one rejects") }
        if fast != g && fast.map({ $0.fields.count }) != g.map({ $0.fields.count }) {
            fatalError("fast and general decoders disagree")
        }
    }
    guard let events = try? EventCodec.decode(channel: "/0.celeryev/task.multi", payload: bytes) else { return 0 }
    // What a receiver does with each event: its Lamport clock and timestamp correction.
    var clock = LamportClock(value: Int(bytes.first ?? 0))
    for event in events {
        _ = clock.observe(event)
        _ = event.adjustedTimestamp(localOffset: -2)
        _ = (event.type, event.kind, event.hostname, event.timestamp, event.clock, event.utcoffset, event.pid)
        _ = (event.task, event.worker)
        _ = EventCodec.encode(event, hostname: "fuzz@host", deliveryTag: "tag")
    }
    _ = EventCodec.encode(events, hostname: "fuzz@host", deliveryTag: "tag")
    return 0
}
