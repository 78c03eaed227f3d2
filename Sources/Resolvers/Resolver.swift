#if canImport(Glibc)
import Glibc
#endif

/// The port part of a lookup: a number, or a service name such as "http".
/// A string of digits is a number.
public enum ServicePort: Hashable, Sendable, ExpressibleByIntegerLiteral, ExpressibleByStringLiteral, CustomStringConvertible {
    /// A port number; must be 0...65535 when used.
    case number(Int)
    /// A service name from /etc/services, or numeric text.
    case service(String)

    /// A number.
    public init(integerLiteral value: Int) { self = .number(value) }
    /// A service name (or numeric text).
    public init(stringLiteral value: String) { self = .service(value) }

    /// The port number if it is one (numeric text included) and in range.
    ///
    /// - Throws: `InvalidArgument` for a number outside 0...65535.
    public func numericValue() throws -> UInt16? {
        switch self {
        case .number(let n):
            guard (0...65535).contains(n) else { throw InvalidArgument("port must be 0-65535, got \(n)") }
            return UInt16(n)
        case .service(let text):
            guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
            guard let n = Int(text), (0...65535).contains(n) else { throw InvalidArgument("port must be 0-65535, got \(text)") }
            return UInt16(n)
        }
    }

    /// The number or the name.
    public var description: String {
        switch self {
        case .number(let n): return String(n)
        case .service(let s): return s
        }
    }
}

/// One `getaddrinfo` result.
public struct AddressInfo: Hashable, Sendable, CustomStringConvertible {
    /// The address family.
    public var family: AddressFamily
    /// The socket type.
    public var type: SocketType
    /// The protocol.
    public var proto: IPProtocol
    /// The canonical name (only on the first result, with `.canonicalName`), else "".
    public var canonicalName: String
    /// The address, port included.
    public var address: SocketAddress

    /// Creates a result.
    public init(family: AddressFamily, type: SocketType, proto: IPProtocol, canonicalName: String = "", address: SocketAddress) {
        self.family = family
        self.type = type
        self.proto = proto
        self.canonicalName = canonicalName
        self.address = address
    }

    /// Python's 5-tuple form: `(AF_INET, SOCK_STREAM, 6, '', ('1.2.3.4', 80))`.
    public var description: String {
        "(\(family), \(type), \(proto.rawValue), '\(canonicalName)', \(address))"
    }
}

/// A host entry, as `gethostbyname_ex` and `gethostbyaddr` return it.
public struct HostEntry: Hashable, Sendable {
    /// The official (canonical) name.
    public var name: String
    /// Other names.
    public var aliases: [String]
    /// Addresses as numeric text.
    public var addresses: [String]

    /// Creates an entry.
    public init(name: String, aliases: [String], addresses: [String]) {
        self.name = name
        self.aliases = aliases
        self.addresses = addresses
    }
}

/// A name-resolution backend. Every backend gives the same answers as the C
/// library for the same question (c-ares: the same sets of addresses), and
/// throws the same kinds of errors (`AddressInfoError`, `HostError`,
/// `SystemError`, `InvalidArgument`).
///
/// Each hub owns one resolver (`hub.resolver`); the module-level DNS
/// functions and socket `connect` use it.
public protocol Resolver: Sendable {
    /// The backend's name: "block", "thread" or "ares".
    var name: String { get }

    /// Resolves `host` and `port` into socket addresses, like `getaddrinfo(3)`.
    /// A nil host with `.passive` gives the wildcard address; `""` is the
    /// wildcard too (a nil host with `.passive`, port 0 when none is given),
    /// and `"<broadcast>"` is 255.255.255.255. Non-ASCII names are
    /// IDNA-encoded as glibc's `AI_IDN` does; IP literals with numeric ports
    /// are answered without any lookup.
    func getaddrinfo(host: String?, port: ServicePort?, family: AddressFamily, type: SocketType,
                     proto: IPProtocol, flags: AddressInfoFlags) async throws -> [AddressInfo]

    /// The first IPv4 address of `host`, as text.
    func gethostbyname(_ host: String) async throws -> String

    /// The canonical name, aliases and IPv4 addresses of `host`.
    func gethostbynameEx(_ host: String) async throws -> HostEntry

    /// The name, aliases and addresses for an address (or a host name, which
    /// is resolved first).
    func gethostbyaddr(_ address: String) async throws -> HostEntry

    /// The host and service names for a socket address, like `getnameinfo(3)`.
    func getnameinfo(_ address: SocketAddress, flags: NameInfoFlags) async throws -> (host: String, service: String)

    /// Releases the backend's resources; later calls fail.
    func close() async

    /// Starts closing without waiting: later calls fail at once and the
    /// resources go in the background. A hub calls this on its own thread
    /// when it shuts down (a c-ares backend destroys its channel here). The
    /// default runs `close()` in a task.
    func beginClose()
}

extension Resolver {
    /// Runs `close()` in a task.
    public func beginClose() {
        Task { await close() }
    }
}

extension Resolver {
    /// `getaddrinfo` with the usual defaults: any family, type and protocol, no flags.
    public func getaddrinfo(host: String?, port: ServicePort? = nil, family: AddressFamily = .unspecified,
                            type: SocketType = .any, proto: IPProtocol = .any,
                            flags: AddressInfoFlags = []) async throws -> [AddressInfo] {
        try await getaddrinfo(host: host, port: port, family: family, type: type, proto: proto, flags: flags)
    }
}
