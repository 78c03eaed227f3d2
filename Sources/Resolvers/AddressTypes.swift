#if canImport(Glibc)
import Glibc
#endif

/// An address family (`AF_*`).
public struct AddressFamily: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The C value.
    public let rawValue: Int32
    /// Wraps a C value.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// `AF_UNSPEC`: any family.
    public static let unspecified = AddressFamily(rawValue: AF_UNSPEC)
    /// `AF_INET`: IPv4.
    public static let inet = AddressFamily(rawValue: AF_INET)
    /// `AF_INET6`: IPv6.
    public static let inet6 = AddressFamily(rawValue: AF_INET6)
    /// `AF_UNIX`: local (path) sockets.
    public static let unix = AddressFamily(rawValue: AF_UNIX)

    /// "AF_INET", "AF_INET6", "AF_UNIX", "AF_UNSPEC" or the number.
    public var description: String {
        switch rawValue {
        case AF_UNSPEC: return "AF_UNSPEC"
        case AF_INET: return "AF_INET"
        case AF_INET6: return "AF_INET6"
        case AF_UNIX: return "AF_UNIX"
        default: return "AddressFamily(\(rawValue))"
        }
    }
}

/// A socket type (`SOCK_*`).
public struct SocketType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The C value.
    public let rawValue: Int32
    /// Wraps a C value.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// 0: any type (in lookups).
    public static let any = SocketType(rawValue: 0)
    /// `SOCK_STREAM`.
    public static let stream = SocketType(rawValue: Int32(SOCK_STREAM.rawValue))
    /// `SOCK_DGRAM`.
    public static let datagram = SocketType(rawValue: Int32(SOCK_DGRAM.rawValue))
    /// `SOCK_RAW`.
    public static let raw = SocketType(rawValue: Int32(SOCK_RAW.rawValue))

    /// "SOCK_STREAM", "SOCK_DGRAM", "SOCK_RAW", "0" or the number.
    public var description: String {
        switch self {
        case .any: return "0"
        case .stream: return "SOCK_STREAM"
        case .datagram: return "SOCK_DGRAM"
        case .raw: return "SOCK_RAW"
        default: return "SocketType(\(rawValue))"
        }
    }
}

/// An IP protocol number (`IPPROTO_*`).
public struct IPProtocol: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The C value.
    public let rawValue: Int32
    /// Wraps a C value.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// 0: the default for the socket type.
    public static let any = IPProtocol(rawValue: 0)
    /// `IPPROTO_TCP`.
    public static let tcp = IPProtocol(rawValue: Int32(IPPROTO_TCP))
    /// `IPPROTO_UDP`.
    public static let udp = IPProtocol(rawValue: Int32(IPPROTO_UDP))

    /// "IPPROTO_TCP", "IPPROTO_UDP", "0" or the number.
    public var description: String {
        switch self {
        case .any: return "0"
        case .tcp: return "IPPROTO_TCP"
        case .udp: return "IPPROTO_UDP"
        default: return "IPProtocol(\(rawValue))"
        }
    }
}

/// `getaddrinfo` flags (`AI_*`).
public struct AddressInfoFlags: OptionSet, Hashable, Sendable, CustomStringConvertible {
    /// The C bits.
    public let rawValue: Int32
    /// Wraps C bits.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// `AI_PASSIVE`: a wildcard address for binding when the host is nil.
    public static let passive = AddressInfoFlags(rawValue: AI_PASSIVE)
    /// `AI_CANONNAME`: fill in the canonical name of the first result.
    public static let canonicalName = AddressInfoFlags(rawValue: AI_CANONNAME)
    /// `AI_NUMERICHOST`: the host must be an address literal; no lookup.
    public static let numericHost = AddressInfoFlags(rawValue: AI_NUMERICHOST)
    /// `AI_V4MAPPED`.
    public static let v4Mapped = AddressInfoFlags(rawValue: AI_V4MAPPED)
    /// `AI_ALL`.
    public static let all = AddressInfoFlags(rawValue: AI_ALL)
    /// `AI_ADDRCONFIG`.
    public static let addressConfig = AddressInfoFlags(rawValue: AI_ADDRCONFIG)
    /// `AI_NUMERICSERV`: the port must be numeric.
    public static let numericService = AddressInfoFlags(rawValue: AI_NUMERICSERV)

    static let names: [(AddressInfoFlags, String)] = [
        (.passive, "AI_PASSIVE"), (.canonicalName, "AI_CANONNAME"), (.numericHost, "AI_NUMERICHOST"),
        (.v4Mapped, "AI_V4MAPPED"), (.all, "AI_ALL"), (.addressConfig, "AI_ADDRCONFIG"),
        (.numericService, "AI_NUMERICSERV"),
    ]

    /// The flag names joined by "|", or "0".
    public var description: String { flagDescription(rawValue, Self.names.map { ($0.0.rawValue, $0.1) }) }
}

/// `getnameinfo` flags (`NI_*`).
public struct NameInfoFlags: OptionSet, Hashable, Sendable, CustomStringConvertible {
    /// The C bits.
    public let rawValue: Int32
    /// Wraps C bits.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// `NI_NUMERICHOST`: the address as text, no reverse lookup.
    public static let numericHost = NameInfoFlags(rawValue: NI_NUMERICHOST)
    /// `NI_NUMERICSERV`: the port as a number.
    public static let numericService = NameInfoFlags(rawValue: NI_NUMERICSERV)
    /// `NI_NOFQDN`: only the first label of local names.
    public static let noFQDN = NameInfoFlags(rawValue: NI_NOFQDN)
    /// `NI_NAMEREQD`: fail if the address has no name.
    public static let nameRequired = NameInfoFlags(rawValue: NI_NAMEREQD)
    /// `NI_DGRAM`: look the service up as UDP.
    public static let datagram = NameInfoFlags(rawValue: NI_DGRAM)

    static let names: [(NameInfoFlags, String)] = [
        (.numericHost, "NI_NUMERICHOST"), (.numericService, "NI_NUMERICSERV"), (.noFQDN, "NI_NOFQDN"),
        (.nameRequired, "NI_NAMEREQD"), (.datagram, "NI_DGRAM"),
    ]

    /// The flag names joined by "|", or "0".
    public var description: String { flagDescription(rawValue, Self.names.map { ($0.0.rawValue, $0.1) }) }
}

func flagDescription(_ raw: Int32, _ names: [(Int32, String)]) -> String {
    var rest = raw
    var parts: [String] = []
    for (bit, name) in names where raw & bit == bit && bit != 0 {
        parts.append(name)
        rest &= ~bit
    }
    if rest != 0 { parts.append(String(rest, radix: 16)) }
    return parts.isEmpty ? "0" : parts.joined(separator: "|")
}
