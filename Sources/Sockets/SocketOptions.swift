#if canImport(Glibc)
import Glibc
#endif

/// A socket option with a readable name and a typed value.
///
/// ```swift
/// try socket.setOption(.reuseAddress, true)
/// let size = try socket.option(.receiveBufferSize)
/// try socket.setOption(.linger, .on(seconds: 0))
/// ```
/// Anything not listed here is reachable by level and name with
/// `setRawOption`/`rawOption`.
public struct SocketOption<Value>: Sendable, CustomStringConvertible {
    /// The level (`SOL_SOCKET`, `IPPROTO_TCP`, ...).
    public let level: Int32
    /// The option name (`SO_REUSEADDR`, ...).
    public let name: Int32
    let label: String
    let kind: Kind

    enum Kind { case bool, int, linger }

    /// "SO_REUSEADDR" and so on.
    public var description: String { label }
}

/// The `SO_LINGER` setting: what `close` does with unsent data.
public enum Linger: Sendable, Hashable {
    /// Close returns at once; the kernel sends what is left in the background.
    case off
    /// Close waits up to `seconds` for the data to go; 0 resets the connection.
    case on(seconds: Int)
}

extension SocketOption where Value == Bool {
    /// `SO_REUSEADDR`: bind to an address in TIME_WAIT.
    public static var reuseAddress: SocketOption<Bool> { .init(level: SOL_SOCKET, name: SO_REUSEADDR, label: "SO_REUSEADDR", kind: .bool) }
    /// `SO_REUSEPORT`: several sockets listen on one port; the kernel spreads connections.
    public static var reusePort: SocketOption<Bool> { .init(level: SOL_SOCKET, name: SO_REUSEPORT, label: "SO_REUSEPORT", kind: .bool) }
    /// `SO_KEEPALIVE`: probe idle connections.
    public static var keepAlive: SocketOption<Bool> { .init(level: SOL_SOCKET, name: SO_KEEPALIVE, label: "SO_KEEPALIVE", kind: .bool) }
    /// `SO_BROADCAST`: allow sending to broadcast addresses.
    public static var broadcast: SocketOption<Bool> { .init(level: SOL_SOCKET, name: SO_BROADCAST, label: "SO_BROADCAST", kind: .bool) }
    /// `TCP_NODELAY`: send small writes at once (no Nagle).
    public static var noDelay: SocketOption<Bool> { .init(level: Int32(IPPROTO_TCP), name: TCP_NODELAY, label: "TCP_NODELAY", kind: .bool) }
    /// `IPV6_V6ONLY`: an IPv6 socket refuses IPv4-mapped peers.
    public static var ipv6Only: SocketOption<Bool> { .init(level: Int32(IPPROTO_IPV6), name: IPV6_V6ONLY, label: "IPV6_V6ONLY", kind: .bool) }
}

extension SocketOption where Value == Int {
    /// `SO_RCVBUF`: the receive buffer size (Linux reports double what was set).
    public static var receiveBufferSize: SocketOption<Int> { .init(level: SOL_SOCKET, name: SO_RCVBUF, label: "SO_RCVBUF", kind: .int) }
    /// `SO_SNDBUF`: the send buffer size (Linux reports double what was set).
    public static var sendBufferSize: SocketOption<Int> { .init(level: SOL_SOCKET, name: SO_SNDBUF, label: "SO_SNDBUF", kind: .int) }

    /// Any option whose value is a C `int`.
    public init(level: Int32, name: Int32) {
        self.init(level: level, name: name, label: "option(\(level), \(name))", kind: .int)
    }
}

extension SocketOption where Value == Linger {
    /// `SO_LINGER`.
    public static var linger: SocketOption<Linger> { .init(level: SOL_SOCKET, name: SO_LINGER, label: "SO_LINGER", kind: .linger) }
}

extension Socket {
    /// Sets an option.
    ///
    /// - Throws: `SystemError` (ENOPROTOOPT, EINVAL, ...), `InvalidArgument`
    ///   for a value out of range, EBADF if closed.
    public func setOption<Value>(_ option: SocketOption<Value>, _ value: Value) throws {
        let fd = try liveDescriptor()
        switch option.kind {
        case .bool:
            guard let flag = value as? Bool else { throw InvalidArgument("\(option) takes a Bool") }
            try setIntOption(fd, level: option.level, name: option.name, flag ? 1 : 0)
        case .int:
            guard let number = value as? Int, let raw = Int32(exactly: number) else {
                throw InvalidArgument("\(option) takes an Int in the range of a C int, got \(value)")
            }
            try setIntOption(fd, level: option.level, name: option.name, raw)
        case .linger:
            guard let setting = value as? Linger else { throw InvalidArgument("\(option) takes a Linger") }
            var raw = Glibc.linger()
            if case .on(let seconds) = setting {
                guard let seconds = Int32(exactly: seconds), seconds >= 0 else {
                    throw InvalidArgument("linger seconds must be 0...\(Int32.max), got \(setting)")
                }
                raw.l_onoff = 1
                raw.l_linger = seconds
            }
            _ = try checkedSyscall { setsockopt(fd, option.level, option.name, &raw, socklen_t(MemoryLayout<Glibc.linger>.size)) }
        }
    }

    /// Reads an option.
    ///
    /// - Throws: `SystemError` (ENOPROTOOPT, ...), EBADF if closed.
    public func option<Value>(_ option: SocketOption<Value>) throws -> Value {
        let fd = try liveDescriptor()
        let value: Any
        switch option.kind {
        case .bool:
            value = try intOption(fd, level: option.level, name: option.name) != 0
        case .int:
            value = Int(try intOption(fd, level: option.level, name: option.name))
        case .linger:
            var raw = Glibc.linger()
            var length = socklen_t(MemoryLayout<Glibc.linger>.size)
            _ = try checkedSyscall { getsockopt(fd, option.level, option.name, &raw, &length) }
            value = raw.l_onoff == 0 ? Linger.off : Linger.on(seconds: Int(raw.l_linger))
        }
        guard let typed = value as? Value else { throw InvalidArgument("\(option) cannot be read as \(Value.self)") }
        return typed
    }

    /// Sets an integer option by level and name (`setsockopt(2)`).
    public func setRawOption(level: Int32, name: Int32, value: Int32) throws {
        try setIntOption(try liveDescriptor(), level: level, name: name, value)
    }

    /// Sets an option by level and name to raw bytes (a C struct).
    public func setRawOption(level: Int32, name: Int32, bytes: [UInt8]) throws {
        let fd = try liveDescriptor()
        _ = try bytes.withUnsafeBytes { raw in
            try checkedSyscall { setsockopt(fd, level, name, raw.baseAddress, socklen_t(raw.count)) }
        }
    }

    /// Reads an integer option by level and name (`getsockopt(2)`).
    public func rawOption(level: Int32, name: Int32) throws -> Int32 {
        try intOption(try liveDescriptor(), level: level, name: name)
    }

    /// Reads an option by level and name as at most `length` raw bytes.
    ///
    /// - Throws: `InvalidArgument` for a length outside 1...1024; `SystemError`.
    public func rawOption(level: Int32, name: Int32, length: Int) throws -> [UInt8] {
        let fd = try liveDescriptor()
        guard (1...1024).contains(length) else { throw InvalidArgument("option length must be 1...1024, got \(length)") }
        var bytes = [UInt8](repeating: 0, count: length)
        var size = socklen_t(length)
        _ = try bytes.withUnsafeMutableBytes { raw in
            try checkedSyscall { getsockopt(fd, level, name, raw.baseAddress, &size) }
        }
        return Array(bytes.prefix(Int(size)))
    }
}
