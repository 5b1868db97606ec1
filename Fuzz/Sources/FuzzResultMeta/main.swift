// Result records read from the result backend (GET / pub/sub): decode, re-encode, decode.
import Celeriac
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = fuzzInput(start, count)
    guard let meta = try? ResultMeta.decode(bytes) else { return 0 }
    guard (try? ResultMeta.decode(meta.encoded())) != nil else { fatalError("re-encoded result does not decode") }
    _ = meta.jsonValue.serialized()
    return 0
}
