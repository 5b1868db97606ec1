/// Helpers shared by the fuzzers.

/// The fuzzer's input as a byte array (what the decoders take from Redis).
public func fuzzInput(_ start: UnsafeRawPointer?, _ count: Int) -> [UInt8] {
    guard let start, count > 0 else { return [] }
    return Array(UnsafeRawBufferPointer(start: start, count: count))
}

/// Stops the fuzzer with a finding when two decoders that must agree do not.
///
/// A trap is what libFuzzer records as a crash, with the input saved for a regression test.
public func requireAgreement<T: Equatable>(_ fast: T, _ general: T, _ what: StaticString) {
    if fast != general { fatalError("\(what): fast and general decoders disagree") }
}
