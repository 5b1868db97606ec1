import Celeriac
import CeleriacTestTags
import Testing

@Suite(.tags(.unit)) struct JSONObjectTests {
    @Test func keepsInsertionOrderAndReplacesInPlace() {
        var o: JSONObject = ["b": 1, "a": 2]
        o["c"] = 3
        o["b"] = "x"
        #expect(o.keys == ["b", "a", "c"])
        #expect(o["b"] == .string("x"))
        o["a"] = nil
        #expect(o.keys == ["b", "c"])
    }

    @Test func numberKindsStayApart() {
        #expect(JSONValue.int(2) != JSONValue.double(2.0))
        #expect(JSONValue.int(2).doubleValue == 2.0)
        #expect(JSONValue.bool(true).intValue == nil)
    }
}
