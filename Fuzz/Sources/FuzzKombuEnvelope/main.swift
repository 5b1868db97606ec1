// The kombu envelope every broker message travels in: decode, re-encode, decode again.
import Celeriac
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = fuzzInput(start, count)
    guard let envelope = try? KombuEnvelope.decode(bytes) else { return 0 }
    _ = try? envelope.bodyJSON()
    _ = (envelope.deliveryTag, envelope.exchange, envelope.routingKey, envelope.priority, envelope.redelivered)
    guard let again = try? KombuEnvelope.decode(envelope.encoded()) else { fatalError("re-encoded envelope does not decode") }
    if again.body != envelope.body { fatalError("re-encoded envelope changed its body") }
    return 0
}
