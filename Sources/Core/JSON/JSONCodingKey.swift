/// A coding key for any object member or array index, used by the ``JSONValue`` Codable bridge.
///
/// ``JSONValueEncoder`` and ``JSONValueDecoder`` need keys they did not get from the value's
/// own `CodingKeys`: array positions in coding paths, `super`, and the members of a
/// ``JSONObject`` encoded through someone else's encoder.
struct JSONCodingKey: CodingKey, Sendable {
    let stringValue: String
    let intValue: Int?

    init(_ string: String) {
        stringValue = string
        intValue = nil
    }

    init(index: Int) {
        stringValue = "Index \(index)"
        intValue = index
    }

    init?(stringValue: String) { self.init(stringValue) }

    init?(intValue: Int) { self.init(index: intValue) }

    static let `super` = JSONCodingKey("super")
}
