#if canImport(Glibc)
import Glibc
#endif

/// A socket address: IPv4, IPv6 (with flow info and scope id) or a Unix path.
/// Hosts are kept as numeric text, as Python's socket module shows them.
public enum SocketAddress: Hashable, Sendable, CustomStringConvertible {
    /// An IPv4 address and port.
    case inet(host: String, port: UInt16)
    /// An IPv6 address, port, flow info and scope id.
    case inet6(host: String, port: UInt16, flowInfo: UInt32 = 0, scopeID: UInt32 = 0)
    /// A Unix-domain path (an abstract name starts with a NUL).
    case unix(path: String)

    /// The family of the address.
    public var family: AddressFamily {
        switch self {
        case .inet: return .inet
        case .inet6: return .inet6
        case .unix: return .unix
        }
    }

    /// The numeric host, or the path for Unix addresses.
    public var host: String {
        switch self {
        case .inet(let host, _), .inet6(let host, _, _, _): return host
        case .unix(let path): return path
        }
    }

    /// The port; 0 for Unix addresses.
    public var port: UInt16 {
        switch self {
        case .inet(_, let port), .inet6(_, let port, _, _): return port
        case .unix: return 0
        }
    }

    /// The same address with another port (Unix addresses are unchanged).
    public func withPort(_ port: UInt16) -> SocketAddress {
        switch self {
        case .inet(let host, _): return .inet(host: host, port: port)
        case .inet6(let host, _, let flow, let scope): return .inet6(host: host, port: port, flowInfo: flow, scopeID: scope)
        case .unix: return self
        }
    }

    /// "1.2.3.4:80", "[::1]:80", "[fe80::1%2]:80" or the path.
    public var description: String {
        switch self {
        case .inet(let host, let port): return "\(host):\(port)"
        case .inet6(let host, let port, _, let scope):
            return scope == 0 ? "[\(host)]:\(port)" : "[\(host)%\(scope)]:\(port)"
        case .unix(let path): return path
        }
    }

    /// Parses a numeric IPv4 or IPv6 host (an IPv6 literal may carry a
    /// `%scope` suffix, numeric or an interface name) into an address.
    ///
    /// - Throws: `InvalidArgument` naming the text when it is not a literal.
    public init(numericHost host: String, port: UInt16) throws {
        switch try SocketAddress.parseNumeric(host) {
        case .v4:
            self = .inet(host: host, port: port)
        case .v6(let raw, let scope):
            self = .inet6(host: SocketAddress.format(raw), port: port, flowInfo: 0, scopeID: scope)
        }
    }

    /// Whether `text` is an IPv4 or IPv6 literal (with a valid scope, if any).
    public static func isNumericHost(_ text: String) -> Bool {
        (try? parseNumeric(text)) != nil
    }

    private enum NumericHost {
        case v4(in_addr)
        case v6(in6_addr, scope: UInt32)
    }

    /// The one parser behind `init(numericHost:port:)` and `isNumericHost`.
    private static func parseNumeric(_ host: String) throws -> NumericHost {
        // inet_pton stops at a NUL: "127.0.0.1\0.example" must not pass as 127.0.0.1.
        guard !host.utf8.contains(0) else {
            throw InvalidArgument("not a numeric IP address: \(quoted(host)) (embedded NUL)")
        }
        if let v4 = parseIPv4(host) { return .v4(v4) }
        var text = host
        var scope: UInt32 = 0
        if let percent = host.firstIndex(of: "%") {
            text = String(host[..<percent])
            let scopeText = String(host[host.index(after: percent)...])
            guard !scopeText.isEmpty else { throw InvalidArgument("empty IPv6 scope in '\(host)'") }
            if scopeText.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) {
                guard let number = UInt32(scopeText) else { throw InvalidArgument("IPv6 scope out of range in '\(host)'") }
                scope = number
            } else {
                scope = if_nametoindex(scopeText)
                guard scope != 0 else { throw InvalidArgument("unknown interface in IPv6 scope: '\(scopeText)'") }
            }
        }
        var raw = in6_addr()
        guard inet_pton(AF_INET6, text, &raw) == 1 else {
            throw InvalidArgument("not a numeric IP address: '\(host)'")
        }
        return .v6(raw, scope: scope)
    }

    /// `text` in single quotes with control characters (a NUL) escaped, for messages.
    static func quoted(_ text: String) -> String {
        "'" + String(text.debugDescription.dropFirst().dropLast()) + "'"
    }

    static func parseIPv4(_ text: String) -> in_addr? {
        guard !text.utf8.contains(0) else { return nil }
        var raw = in_addr()
        return inet_pton(AF_INET, text, &raw) == 1 ? raw : nil
    }

    static func format(_ raw: in6_addr) -> String {
        // A stack buffer: this runs for every lookup result.
        withUnsafeBytes(of: raw) { SystemCalls.numericText(family: AF_INET6, bytes: $0.baseAddress!) }
    }

    static func format(_ raw: in_addr) -> String {
        withUnsafeBytes(of: raw) { SystemCalls.numericText(family: AF_INET, bytes: $0.baseAddress!) }
    }

    /// Reads a C socket address.
    ///
    /// - Throws: `InvalidArgument` for a family this type does not hold.
    public init(_ address: UnsafePointer<sockaddr>, length: socklen_t) throws {
        switch Int32(address.pointee.sa_family) {
        case AF_INET:
            let sin = UnsafeRawPointer(address).loadUnaligned(as: sockaddr_in.self)
            self = .inet(host: SocketAddress.format(sin.sin_addr), port: UInt16(bigEndian: sin.sin_port))
        case AF_INET6:
            let sin6 = UnsafeRawPointer(address).loadUnaligned(as: sockaddr_in6.self)
            self = .inet6(host: SocketAddress.format(sin6.sin6_addr), port: UInt16(bigEndian: sin6.sin6_port),
                          flowInfo: UInt32(bigEndian: sin6.sin6_flowinfo), scopeID: sin6.sin6_scope_id)
        case AF_UNIX:
            let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)!
            let pathLength = max(0, Int(length) - pathOffset)
            let bytes = UnsafeRawBufferPointer(start: UnsafeRawPointer(address) + pathOffset, count: pathLength)
            var path = Array(bytes)
            if let first = path.first, first != 0, let nul = path.firstIndex(of: 0) { path.removeSubrange(nul...) }
            self = .unix(path: String(decoding: path, as: UTF8.self))
        default:
            throw InvalidArgument("unsupported address family \(address.pointee.sa_family)")
        }
    }

    /// Calls `body` with this address as a C `sockaddr` and its length.
    ///
    /// - Throws: `InvalidArgument` for a host that is not a numeric literal
    ///   or a Unix path that is too long.
    public func withSockAddr<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws -> T) throws -> T {
        var storage = sockaddr_storage()
        let length: socklen_t
        switch self {
        case .inet(let host, let port):
            guard let raw = SocketAddress.parseIPv4(host) else { throw InvalidArgument("not an IPv4 address: \(SocketAddress.quoted(host))") }
            var sin = sockaddr_in()
            sin.sin_family = sa_family_t(AF_INET)
            sin.sin_port = port.bigEndian
            sin.sin_addr = raw
            withUnsafeBytes(of: &sin) { src in
                withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: src) }
            }
            length = socklen_t(MemoryLayout<sockaddr_in>.size)
        case .inet6(let host, let port, let flow, let scope):
            var raw = in6_addr()
            guard !host.utf8.contains(0), inet_pton(AF_INET6, host, &raw) == 1 else {
                throw InvalidArgument("not an IPv6 address: \(SocketAddress.quoted(host))")
            }
            var sin6 = sockaddr_in6()
            sin6.sin6_family = sa_family_t(AF_INET6)
            sin6.sin6_port = port.bigEndian
            sin6.sin6_flowinfo = flow.bigEndian
            sin6.sin6_addr = raw
            sin6.sin6_scope_id = scope
            withUnsafeBytes(of: &sin6) { src in
                withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: src) }
            }
            length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        case .unix(let path):
            var sun = sockaddr_un()
            sun.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            // A leading NUL names an abstract socket; a NUL anywhere else
            // would silently cut the path short.
            guard !bytes.dropFirst().contains(0) else {
                throw InvalidArgument("Unix socket path contains a NUL byte: \(SocketAddress.quoted(path))")
            }
            let capacity = MemoryLayout.size(ofValue: sun.sun_path)
            guard bytes.count < capacity || (bytes.first == 0 && bytes.count <= capacity) else {
                throw InvalidArgument("Unix socket path too long (\(bytes.count) bytes, at most \(capacity - 1))")
            }
            withUnsafeMutableBytes(of: &sun.sun_path) { dst in
                dst.copyBytes(from: bytes)
            }
            withUnsafeBytes(of: &sun) { src in
                withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: src) }
            }
            let pathOffset = MemoryLayout<sockaddr_un>.offset(of: \sockaddr_un.sun_path)!
            length = socklen_t(pathOffset + bytes.count + (bytes.first == 0 ? 0 : 1))
        }
        return try withUnsafePointer(to: &storage) {
            try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, length) }
        }
    }
}

/// A bad argument to a resolver or socket call, with a message naming it.
public struct InvalidArgument: Error, Equatable, Sendable, CustomStringConvertible {
    /// What was wrong.
    public let message: String
    /// Creates the error.
    public init(_ message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}
