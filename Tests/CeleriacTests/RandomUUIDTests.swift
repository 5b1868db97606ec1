@testable import Celeriac
import Foundation
import CeleriacTestTags
import Testing

@Suite(.tags(.unit)) struct RandomUUIDTests {
    @Test func formatsBytesAsUUIDTextWithVersionFourAndTheRFCVariant() {
        #expect(RandomUUID.format(high: 0, low: 0) == "00000000-0000-4000-8000-000000000000")
        #expect(RandomUUID.format(high: .max, low: .max) == "ffffffff-ffff-4fff-bfff-ffffffffffff")
        #expect(RandomUUID.format(high: 0x0123_4567_89AB_CDEF, low: 0xFEDC_BA98_7654_3210)
                == "01234567-89ab-4def-bedc-ba9876543210")
    }

    @Test func freshIDsAreDistinctUUID4sThatFoundationParses() {
        var seen = Set<String>()
        for _ in 0..<10_000 {
            let id = RandomUUID.string()
            #expect(id.utf8.count == 36)
            #expect(Array(id)[14] == "4")
            #expect("89ab".contains(Array(id)[19]))
            #expect(UUID(uuidString: id)?.uuidString.lowercased() == id)
            seen.insert(id)
        }
        #expect(seen.count == 10_000, "ids repeat across pool refills")
    }
}
