import CAres
#if canImport(Glibc)
import Glibc
#endif

/// Settings for an `AresResolver`'s c-ares channel. Every field left `nil`
/// (or empty) takes the system's value, read from resolv.conf by c-ares
/// itself, as c-ares does; set fields win.
///
/// ```swift
/// var options = AresOptions()
/// options.nameservers = [try AresNameserver(parsing: "127.0.0.1:5353")]
/// options.timeout = .milliseconds(200)
/// options.tries = 1
/// let resolver = try AresResolver(hub: hub, options: options)
/// ```
public struct AresOptions: Hashable, Sendable {
    /// The DNS servers, asked in order (or rotated with `rotate`). Empty:
    /// the `nameserver` lines of resolv.conf.
    public var nameservers: [AresNameserver] = []
    /// How long to wait for an answer to one try, sub-second values
    /// included (c-ares doubles it each round over all servers). nil:
    /// resolv.conf's `options timeout:N` (or `RES_OPTIONS`), else c-ares'
    /// default 5 s. (c-ares 1.18 itself ignores `timeout:`; Evergreen reads it.)
    public var timeout: Duration?
    /// How many times each server is tried. nil: resolv.conf's
    /// `options attempts:N`, else c-ares' default 4.
    public var tries: Int?
    /// Names with at least this many dots are tried as given before the
    /// search domains. nil: resolv.conf's `ndots` (default 1).
    public var ndots: Int?
    /// The UDP port for servers given without one. nil: 53.
    public var udpPort: UInt16?
    /// The TCP port for servers given without one. nil: 53.
    public var tcpPort: UInt16?
    /// The search domains appended to short names. nil: resolv.conf's
    /// `search`/`domain`; `[]`: none.
    public var searchDomains: [String]?
    /// Spread queries over the servers (true) or always start with the
    /// first (false). nil: resolv.conf's `options rotate`.
    public var rotate: Bool?
    /// Where to look and in which order: the hosts file and DNS. nil: the
    /// system's order (nsswitch.conf `hosts:` as c-ares reads it, default
    /// hosts file then DNS). The hosts file is read by Evergreen, the same
    /// way for every family (see `AresResolver`).
    public var lookups: [AresLookupSource]?
    /// c-ares behaviour flags (`ARES_FLAG_*`). Response checking always stays on.
    public var flags: AresFlags = []
    /// `SO_RCVBUF` for c-ares' sockets (bytes); room for bursts of answers
    /// when many lookups are in flight. nil: the kernel's default.
    public var socketReceiveBufferSize: Int?
    /// `SO_SNDBUF` for c-ares' sockets (bytes). nil: the kernel's default.
    public var socketSendBufferSize: Int?
    /// Another resolv.conf to read the system defaults from. nil: /etc/resolv.conf.
    public var resolvConfPath: String?
    /// The hosts file. Default /etc/hosts.
    public var hostsFilePath: String = "/etc/hosts"
    /// How often the hosts file is checked for changes (one `stat`), at
    /// most: a change is seen within this time. Default 1 s; `.zero` checks
    /// on every lookup.
    public var hostsFileCheckInterval: Duration = .seconds(1)
    /// The most lookups in flight on the channel at once, queued ones
    /// included (see `maxActiveLookups`); one more fails at once with
    /// `HubError.saturated`. Default 10,000.
    public var maxInFlight: Int = 10_000
    /// The most lookups handed to c-ares at once (so the most asking the
    /// servers); further lookups wait in a first-in-first-out queue on the
    /// hub and start as earlier ones finish. A cancelled queued lookup leaves
    /// at once without sending anything.
    ///
    /// This paces bursts: thousands of lookups started together would send
    /// a query each in one go, and the answers (or the queries, at the
    /// server) overflow the UDP receive buffers while the hub is busy
    /// sending; every lost datagram then costs a whole `timeout`. A default
    /// socket buffer (208 KiB) holds about 256 small datagrams, and an
    /// `AF_UNSPEC` lookup sends two queries. Default 64, which keeps a
    /// loopback server busy; raise it (with `socketReceiveBufferSize`) for
    /// distant servers, where more lookups must be in flight to fill the
    /// round trip. Setting it to `maxInFlight` turns the pacing off.
    public var maxActiveLookups: Int = 64

    /// Options that take every default from the system.
    public init() {}

    /// Checks every value and throws `InvalidArgument` naming the first bad one.
    public func validate() throws {
        if let timeout {
            guard timeout > .zero else { throw InvalidArgument("c-ares timeout must be positive, got \(timeout)") }
            guard timeout <= .seconds(Int(Int32.max / 1000)) else {
                throw InvalidArgument("c-ares timeout is too large: \(timeout)")
            }
        }
        if let tries, !(1...1000).contains(tries) {
            throw InvalidArgument("c-ares tries must be 1...1000, got \(tries)")
        }
        if let ndots, !(0...255).contains(ndots) {
            throw InvalidArgument("c-ares ndots must be 0...255, got \(ndots)")
        }
        if let lookups {
            guard !lookups.isEmpty, Set(lookups).count == lookups.count else {
                throw InvalidArgument("c-ares lookups must name the hosts file and/or DNS once each, got \(lookups)")
            }
        }
        for domain in searchDomains ?? [] {
            guard !domain.isEmpty, !domain.utf8.contains(where: { $0 <= 32 || $0 == 127 }) else {
                throw InvalidArgument("bad search domain \(SocketAddress.quoted(domain))")
            }
        }
        for (size, name) in [(socketReceiveBufferSize, "socketReceiveBufferSize"), (socketSendBufferSize, "socketSendBufferSize")] {
            if let size, !(1...Int(Int32.max)).contains(size) { throw InvalidArgument("\(name) must be positive, got \(size)") }
        }
        guard maxInFlight >= 1 else { throw InvalidArgument("maxInFlight must be at least 1, got \(maxInFlight)") }
        guard maxActiveLookups >= 1 else {
            throw InvalidArgument("maxActiveLookups must be at least 1, got \(maxActiveLookups)")
        }
        guard !hostsFilePath.isEmpty else { throw InvalidArgument("hostsFilePath must not be empty") }
        guard hostsFileCheckInterval >= .zero else {
            throw InvalidArgument("hostsFileCheckInterval must not be negative, got \(hostsFileCheckInterval)")
        }
        if let resolvConfPath, resolvConfPath.isEmpty { throw InvalidArgument("resolvConfPath must not be empty") }
        // A NUL would silently cut a path short when it reaches the C library.
        guard !hostsFilePath.utf8.contains(0) else { throw InvalidArgument("hostsFilePath contains a NUL byte") }
        if let resolvConfPath, resolvConfPath.utf8.contains(0) { throw InvalidArgument("resolvConfPath contains a NUL byte") }
        for domain in searchDomains ?? [] where domain.utf8.contains(0) {
            throw InvalidArgument("search domain contains a NUL byte")
        }
    }

    /// The timeout in whole milliseconds, rounded up, for `ARES_OPT_TIMEOUTMS`.
    var timeoutMilliseconds: Int32? {
        guard let timeout else { return nil }
        let (seconds, attoseconds) = timeout.components
        let ms = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: max(1, ms))
    }
}

/// One place c-ares may look a name up.
public enum AresLookupSource: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// The hosts file (c-ares' "f").
    case hostsFile = "f"
    /// DNS (c-ares' "b", for "bind").
    case dns = "b"

    /// "hostsFile" or "dns".
    public var description: String { self == .hostsFile ? "hostsFile" : "dns" }
}

/// c-ares behaviour flags (`ARES_FLAG_*`). `ARES_FLAG_NOCHECKRESP` is left
/// out on purpose: Evergreen always checks responses.
public struct AresFlags: OptionSet, Hashable, Sendable, CustomStringConvertible {
    /// The C bits.
    public let rawValue: Int32
    /// Wraps C bits; `ARES_FLAG_NOCHECKRESP` is dropped.
    public init(rawValue: Int32) { self.rawValue = rawValue & ~Int32(ARES_FLAG_NOCHECKRESP) }

    /// Always use TCP (`ARES_FLAG_USEVC`).
    public static let useTCP = AresFlags(rawValue: Int32(ARES_FLAG_USEVC))
    /// Only ask the first server (`ARES_FLAG_PRIMARY`).
    public static let primary = AresFlags(rawValue: Int32(ARES_FLAG_PRIMARY))
    /// Accept truncated UDP answers instead of retrying over TCP (`ARES_FLAG_IGNTC`).
    public static let ignoreTruncation = AresFlags(rawValue: Int32(ARES_FLAG_IGNTC))
    /// Do not ask for recursion (`ARES_FLAG_NORECURSE`).
    public static let noRecursion = AresFlags(rawValue: Int32(ARES_FLAG_NORECURSE))
    /// Keep sockets open when no query is pending (`ARES_FLAG_STAYOPEN`).
    public static let stayOpen = AresFlags(rawValue: Int32(ARES_FLAG_STAYOPEN))
    /// Do not apply the search domains (`ARES_FLAG_NOSEARCH`).
    public static let noSearch = AresFlags(rawValue: Int32(ARES_FLAG_NOSEARCH))
    /// Ignore the HOSTALIASES file (`ARES_FLAG_NOALIASES`).
    public static let noAliases = AresFlags(rawValue: Int32(ARES_FLAG_NOALIASES))
    /// Send EDNS0 options (`ARES_FLAG_EDNS`).
    public static let edns = AresFlags(rawValue: Int32(ARES_FLAG_EDNS))

    static let names: [(AresFlags, String)] = [
        (.useTCP, "useTCP"), (.primary, "primary"), (.ignoreTruncation, "ignoreTruncation"),
        (.noRecursion, "noRecursion"), (.stayOpen, "stayOpen"), (.noSearch, "noSearch"),
        (.noAliases, "noAliases"), (.edns, "edns"),
    ]

    /// The flag names joined by "|", or "0".
    public var description: String { flagDescription(rawValue, Self.names.map { ($0.0.rawValue, $0.1) }) }
}

/// A DNS server address, with an optional port of its own.
public struct AresNameserver: Hashable, Sendable, CustomStringConvertible {
    /// The numeric IPv4 or IPv6 address.
    public let address: String
    /// The server's port for UDP and TCP; nil uses the options' ports (53).
    public let port: UInt16?
    /// `AF_INET` or `AF_INET6`.
    public let family: AddressFamily

    /// A server at `address` (numeric IPv4 or IPv6, no brackets).
    ///
    /// - Throws: `InvalidArgument` if `address` is not a numeric address or
    ///   `port` is 0.
    public init(address: String, port: UInt16? = nil) throws {
        if port == 0 { throw InvalidArgument("nameserver port must be 1-65535, got 0") }
        var v4 = in_addr(), v6 = in6_addr()
        if inet_pton(AF_INET, address, &v4) == 1 {
            family = .inet
        } else if inet_pton(AF_INET6, address, &v6) == 1 {
            family = .inet6
        } else {
            throw InvalidArgument("nameserver must be a numeric IPv4 or IPv6 address, got '\(address)'")
        }
        self.address = address
        self.port = port
    }

    /// Parses `IP`, `IPv4:PORT`, `IPv6` or `[IPv6]:PORT`, e.g. `127.0.0.1:5353`, `[::1]:5353`.
    ///
    /// - Throws: `InvalidArgument` naming the text.
    public init(parsing text: String) throws {
        func bad(_ why: String) -> InvalidArgument { InvalidArgument("bad nameserver \(SocketAddress.quoted(text)): \(why)") }
        func port(_ digits: Substring) throws -> UInt16 {
            guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                  let value = UInt16(digits), value > 0 else { throw bad("port must be 1-65535") }
            return value
        }
        // inet_pton stops at a NUL, which would let "1.2.3.4\0junk" through.
        guard !text.utf8.contains(0) else { throw bad("embedded NUL") }
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw bad("missing ']'") }
            let host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            var parsedPort: UInt16?
            if !rest.isEmpty {
                guard rest.first == ":" else { throw bad("expected ':PORT' after ']'") }
                parsedPort = try port(rest.dropFirst())
            }
            var v6 = in6_addr()
            guard inet_pton(AF_INET6, host, &v6) == 1 else { throw bad("not an IPv6 address") }
            try self.init(address: host, port: parsedPort)
            return
        }
        let colons = text.utf8.filter { $0 == UInt8(ascii: ":") }.count
        if colons == 1, let colon = text.firstIndex(of: ":") {
            let host = String(text[..<colon])
            var v4 = in_addr()
            guard inet_pton(AF_INET, host, &v4) == 1 else { throw bad("not an IPv4 address") }
            try self.init(address: host, port: try port(text[text.index(after: colon)...]))
            return
        }
        do {
            try self.init(address: text)
        } catch {
            throw bad("expected IP, IPv4:PORT or [IPv6]:PORT")
        }
    }

    /// "127.0.0.1", "127.0.0.1:5353", "::1" or "[::1]:5353".
    public var description: String {
        guard let port else { return address }
        return family == .inet6 ? "[\(address)]:\(port)" : "\(address):\(port)"
    }
}
