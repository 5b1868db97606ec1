// Redis URLs from config files, environment variables and flags.
import Celeriac
import FuzzSupport

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer?, _ count: Int) -> CInt {
    let text = String(decoding: fuzzInput(start, count), as: UTF8.self)
    do {
        let url = try RedisURL(parsing: text)
        // The masked form must never show the password.
        // The masked form must never show the password (unless the rest of the URL holds it;
        // a password made of the mask's own characters `:***@` would match the mask itself).
        if let password = url.password, password.count >= 4, !password.contains(where: { "*:@".contains($0) }) {
            var without = url
            without.password = nil
            // Byte search, not Foundation's `String.contains(_:)`: on Linux (Swift 6.3.1) that one
            // finds a needle holding NULs where there is none, past the end, and then traps
            // ("String index is out of bounds"), as this fuzzer found.
            func shows(_ text: String) -> Bool { Array(text.utf8).firstRange(of: Array(password.utf8)) != nil }
            if shows(url.description) && !shows(without.description) {
                fatalError("description shows the password")
            }
        }
        _ = url.debugDescription
    } catch {
        _ = error.description
    }
    return 0
}
