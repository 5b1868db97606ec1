// Remote control: commands from the broadcast channel and replies from a reply list.
import Celeriac
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let bytes = fuzzInput(start, count)
    if let command = try? ControlCommand.decode(payload: bytes) {
        guard (try? ControlCommand.decode(payload: command.encode(deliveryTag: "tag"))) != nil else {
            fatalError("re-encoded command does not decode")
        }
    }
    if let reply = try? ControlReply.decode(bytes) {
        guard (try? ControlReply.decode(reply.encode(deliveryTag: "tag"))) != nil else {
            fatalError("re-encoded reply does not decode")
        }
    }
    return 0
}
