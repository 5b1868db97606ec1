import CeleriacMonitor
import CeleriacTestTags
import Testing

@Suite(.tags(.integration)) struct DisplayWidthTests {
    @Test func wideCharactersTakeTwoColumns() {
        #expect(DisplayWidth.of("abc") == 3)
        #expect(DisplayWidth.of("漢字") == 4)
        #expect(DisplayWidth.of("🎉") == 2)
        #expect(DisplayWidth.of("e\u{301}") == 1)
    }

    @Test func truncationNeverSplitsPastTheWidth() {
        #expect(DisplayWidth.truncate("漢字漢字", to: 5) == "漢字…")
        #expect(DisplayWidth.of(DisplayWidth.truncate("漢字漢字", to: 4)) <= 4)
        #expect(DisplayWidth.fit("ab", to: 4) == "ab  ")
        #expect(DisplayWidth.fit("7", to: 3, alignRight: true) == "  7")
    }

    @Test func controlCharactersNeverReachTheScreen() {
        let s = DisplayWidth.sanitize("a\nb\u{1B}[2Jc\td")
        #expect(s == "a↵b\u{FFFD}[2Jc d")
    }

    @Test func frameClipsRowsToTheWidth() {
        let f = Frame(rows: [Frame.Row([Frame.Span("漢字漢字漢字"), Frame.Span("xyz")])], columns: 7)
        #expect(f.rows[0].width <= 7)
        #expect(f.lines[0] == "漢字漢")
    }

    @Test func wrapHardWrapsByDisplayWidth() {
        #expect(DisplayWidth.wrap("abcdef", width: 4) == ["abcd", "ef"])
        #expect(DisplayWidth.wrap("漢字漢", width: 4) == ["漢字", "漢"])
        #expect(DisplayWidth.wrap("a\nb", width: 4) == ["a", "b"])
    }
}
