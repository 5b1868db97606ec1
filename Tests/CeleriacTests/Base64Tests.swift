@testable import Celeriac
import Foundation
import CeleriacTestTags
import Testing

/// The envelope's base64 codec against Foundation's, for every tail length.
@Suite(.tags(.unit)) struct Base64Tests {
    @Test func encodesLikeFoundationAndAppendsAfterWhatIsThere() {
        for length in 0..<70 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            let expected = Array(Data(bytes).base64EncodedString().utf8)
            #expect(Base64.encode(bytes) == expected, "length \(length)")
            var out = Array("prefix:".utf8)
            Base64.encode(bytes, into: &out)
            #expect(out == Array("prefix:".utf8) + expected, "length \(length)")
            #expect(Base64.decode(expected) == bytes, "length \(length)")
        }
    }
}
