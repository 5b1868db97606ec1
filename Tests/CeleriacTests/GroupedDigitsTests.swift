import Celeriac
import CeleriacTestTags
import Testing

@Suite(.tags(.unit)) struct GroupedDigitsTests {
    @Test func putsACommaBetweenThousands() {
        #expect(GroupedDigits.string(0) == "0")
        #expect(GroupedDigits.string(999) == "999")
        #expect(GroupedDigits.string(1_000) == "1,000")
        #expect(GroupedDigits.string(45_120) == "45,120")
        #expect(GroupedDigits.string(1_234_567) == "1,234,567")
    }

    @Test func signsNegativesAndHandlesTheExtremes() {
        #expect(GroupedDigits.string(-1_000) == "-1,000")
        #expect(GroupedDigits.string(-999) == "-999")
        #expect(GroupedDigits.string(Int.max) == "9,223,372,036,854,775,807")
        #expect(GroupedDigits.string(Int.min) == "-9,223,372,036,854,775,808")
    }
}
