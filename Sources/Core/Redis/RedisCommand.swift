/// One Redis command as its argument vector (name first), ready for hiredis'
/// binary-safe `redisAppendCommandArgv`.
public struct RedisCommand: Sendable, Hashable, CustomStringConvertible {
    /// The command name followed by its arguments, as bytes.
    public var arguments: [[UInt8]]

    /// Creates a command from a name and arguments, e.g. `RedisCommand("LPUSH", key, body)`.
    public init(_ name: String, _ args: any RedisArgument...) {
        self.init(name, arguments: args)
    }

    /// Creates a command from a name and an argument list built at run time.
    public init(_ name: String, arguments: [any RedisArgument]) {
        var all: [[UInt8]] = [Array(name.utf8)]
        all.reserveCapacity(arguments.count + 1)
        for argument in arguments { all.append(argument.redisBytes) }
        self.arguments = all
    }

    /// Creates a command from a raw argument vector (name included).
    public init(arguments: [[UInt8]]) {
        self.arguments = arguments
    }

    /// The command name, upper-cased, for logs and error messages.
    public var name: String {
        guard let first = arguments.first else { return "" }
        return String(decoding: first, as: UTF8.self).uppercased()
    }

    /// A short rendering for logs. Arguments of AUTH and HELLO are hidden because they carry
    /// passwords; long or binary arguments are summarised.
    public var description: String {
        let name = self.name
        if name == "AUTH" || name == "HELLO" || name == "MIGRATE" {
            return arguments.count > 1 ? "\(name) ***" : name
        }
        var parts = [name]
        for argument in arguments.dropFirst() {
            if argument.count > 64 || argument.contains(where: { $0 < 0x20 || $0 >= 0x7F }) {
                parts.append("<\(argument.count) bytes>")
            } else {
                parts.append(String(decoding: argument, as: UTF8.self))
            }
        }
        return parts.joined(separator: " ")
    }
}
