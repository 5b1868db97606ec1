import Celeriac
import CeleriacTestSupport
import CeleriacTestTags
import Foundation
import Testing

/// Every signature in the Celery 5.7 workflow captures (links, errbacks, chain steps, chord
/// bodies, group members, nested chords) reads as a ``Signature`` and writes back byte for byte.
@Suite(.tags(.unit)) struct SignatureCodecTests {
    /// The signatures of a message's embed, at any depth (a chord's header and body, a chain's or
    /// a group's tasks, the options' link, link_error, chain and chord).
    func signatures(in json: JSONValue) throws -> [Signature] {
        guard case .object = json else { return [] }
        let sig = try Signature(json: json)
        var found = [sig]
        for member in sig.kwargs where ["tasks", "header", "body", "task"].contains(member.key) {
            found += try nested(member.value)
        }
        for member in sig.options where ["link", "link_error", "chain", "chord"].contains(member.key) {
            found += try nested(member.value)
        }
        return found
    }

    func nested(_ value: JSONValue) throws -> [Signature] {
        switch value {
        case .array(let items): try items.flatMap { try signatures(in: $0) }
        case .object: try signatures(in: value)
        default: []
        }
    }

    @Test func everyCapturedSignatureRoundTrips() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: CanvasFixtures.directory.path)
            .filter { $0.hasSuffix(".json") && $0.split(separator: ".").count == 2 && $0 != "steps.json" }  // envelopes: `<name>.json`
        try #require(names.count > 40, "the canvas captures in \(CanvasFixtures.directory.path)")
        var checked = 0
        for name in names {
            let m = try CanvasFixtures.message(String(name.dropLast(".json".count)))
            for embed in [m.callbacks, m.errbacks, m.chain, m.chord] {
                for sig in try nested(embed) {
                    #expect(sig.jsonValue.serialized() == (try Signature(json: sig.jsonValue)).jsonValue.serialized())
                    checked += 1
                }
                // The embed as a whole: each top-level signature written back is the bytes Celery wrote.
                let items = embed.arrayValue ?? (embed.isNull ? [] : [embed])
                for item in items {
                    #expect(try Signature(json: item).jsonValue.serialized() == item.serialized(), "\(name)")
                }
            }
        }
        #expect(checked > 40, "signatures checked: \(checked)")
    }

    @Test func kindsReadAsCeleryDispatchesThem() throws {
        let member = try CanvasFixtures.message("chain_then_chord_first")
        let steps = try Signature.list(member.chain)
        guard case .chord(let header, let headerOptions, let body)? = try steps.first?.kind() else {
            Issue.record("the chain's step is a chord: \(steps)")
            return
        }
        #expect(header.count == 2)
        #expect(headerOptions["task_id"] != nil, "the header group's own id is the chord's group id")
        #expect(body.task == "wireapp.tsum")
        #expect(steps.first?.chordSize() == 1, "a chord counts its body in an enclosing chord")
        #expect(Signature.group(header).chordSize() == 2)
    }
}
