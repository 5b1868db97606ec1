// Workflows off the wire: a message embed's signatures (link, link_error, chain, chord) read,
// planned as a worker applies them, and a chord's recorded parts (ZRANGE replies) decided. None
// of it may trap, whatever the JSON: wrong types, deep nesting, huge indexes.
import Celeriac
import FuzzSupport
import Foundation

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = fuzzInput(start, count)
    // As chord parts: each line one `.j` entry.
    _ = ChordJoin.decide(entries: bytes.split(separator: 0x0a).map(Array.init))
    guard let json = try? JSONParser.parse(bytes) else { return 0 }
    _ = ResultTuple(json: json).map(\.jsonValue)
    guard let signatures = try? Signature.list(json) else { return 0 }
    var counter = 0
    let context = CanvasContext(parentID: "p", rootID: "r", replyTo: "oid", origin: "gen1@fuzz", now: Date(timeIntervalSince1970: 0),
                                newID: { "00000000-0000-4000-8000-000000000000" }, signaturesFromWire: true)
    for signature in signatures {
        guard (try? Signature(json: signature.jsonValue)) == signature else { fatalError("a signature does not round-trip") }
        _ = signature.chordSize()
        var planner = CanvasPlanner(context: context)
        _ = try? planner.apply(signature, args: [.int(1)], options: ["parent_id": "p", "chain": .array([])])
        for step in planner.plan.steps {
            if case .publish(let message) = step { counter &+= message.encoded().count }
        }
    }
    _ = counter
    return 0
}
