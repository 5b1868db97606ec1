// Task messages as a worker pops them: the fast decoder must agree with the general one,
// and a decoded message must survive what a worker does with it (re-encode, requeue keys).
@testable import Celeriac
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let input = fuzzInput(start, count)
    // The input as a whole envelope (headers and properties are plain JSON, easy to mutate),
    // then as the body of a well-formed envelope: mutating a base64 body rarely yields JSON,
    // so without this the args, kwargs and embed would hardly be fuzzed.
    check(input)
    check(envelope(body: input))
    return 0
}

private let envelopeStart = Array(#"{"body": ""#.utf8)
private let envelopeEnd = Array(#"", "content-encoding": "utf-8", "content-type": "application/json", "headers": {"lang": "py", "task": "demo.add", "id": "8bd1c012-b0f8-49ee-a1a5-341a16517ca8", "timelimit": [null, null]}, "properties": {"correlation_id": "8bd1c012-b0f8-49ee-a1a5-341a16517ca8", "reply_to": "", "delivery_mode": 2, "delivery_info": {"exchange": "", "routing_key": "celery"}, "priority": 0, "body_encoding": "base64", "delivery_tag": "3f0e6c5c-1f62-4b53-9d43-0d4bd0e6f0d1"}}"#.utf8)

private func envelope(body: [UInt8]) -> [UInt8] {
    var out = envelopeStart
    Base64.encode(body, into: &out)
    out += envelopeEnd
    return out
}

private func check(_ bytes: [UInt8]) {
    let general = Result { () throws(ProtocolError) in try TaskMessage.decode(KombuEnvelope.decode(bytes)) }
    if let fast = TaskMessageFastDecoder.decode(bytes) {
        guard case .success(let g) = general else { fatalError("fast decoder accepted what the general one rejects") }
        // NaN arguments make `==` false on equal messages; the encoding is the tie-breaker.
        if fast != g && fast.encoded() != g.encoded() { fatalError("fast and general decoders disagree") }
    }
    guard let message = try? TaskMessage.decode(bytes: bytes, maxSize: 1 << 20) else { return }
    _ = (message.listKey, message.displayName, message.timeLimit.jsonValue)
    // What a worker computes from the headers: an autoretry's backoff, the dates it formats.
    _ = TaskOptions(retryBackoff: 1).autoretryDelay(retries: message.retries)
    _ = (message.eta.map(CeleryDate.format), message.expires.map(CeleryDate.format))
    var restored = message
    restored.markRedelivered()
    let encoded = restored.encoded()
    guard (try? TaskMessage.decode(bytes: encoded)) != nil else { fatalError("re-encoded message does not decode") }
    _ = UnackedEntry.encode(envelopeBytes: bytes, exchange: message.exchange, routingKey: message.routingKey)
}
