@testable import Celeriac
import CeleriacTestTags
import Testing

@Suite(.tags(.unit)) struct PrehashedKeyTests {
    @Test func behavesExactlyLikeItsStringInSetsAndDictionaries() {
        // Canonically equivalent strings are equal for String, so they must be for the key.
        let precomposed = "caf\u{E9}"
        let decomposed = "cafe\u{301}"
        #expect(PrehashedKey(precomposed) == PrehashedKey(decomposed))
        #expect(Set([precomposed, decomposed].map(PrehashedKey.init)).count == 1)
        #expect(PrehashedKey("a") != PrehashedKey("b"))

        var strings = Set<String>()
        var keys = Set<PrehashedKey>()
        for n in 0..<50_000 {
            let s = "celery-task-meta-\(n % 40_000)"
            #expect(strings.insert(s).inserted == keys.insert(PrehashedKey(s)).inserted)
        }
        for n in stride(from: 0, to: 45_000, by: 3) {
            let s = "celery-task-meta-\(n)"
            #expect((strings.remove(s) != nil) == (keys.remove(PrehashedKey(s)) != nil))
        }
        #expect(Set(keys.map(\.string)) == strings)
    }
}
