// The JSON parser under every decoder: parse, write back in Python's style, parse again.
import Celeriac
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = fuzzInput(start, count)
    guard let value = try? JSONParser.parse(bytes) else { return 0 }
    let written = value.serialized()
    // What we write must parse again (NaN and lone surrogates included).
    guard let again = try? JSONParser.parse(written) else { fatalError("serialized output does not parse") }
    if again.serialized() != written { fatalError("serialize(parse(serialize(v))) is not stable") }
    _ = value.serialized(style: .compact)
    return 0
}
