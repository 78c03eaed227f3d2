#if canImport(Glibc)
import Glibc
#endif

// The module-level DNS functions, as Python's socket module has them. Each
// goes through the resolver of the hub the caller runs on (`Hub.current`),
// or of `Hub.default` when called off every hub.

/// The resolver the DNS functions use: the current hub's, else the default hub's.
var currentResolver: any Resolver { (Hub.current ?? Hub.default).resolver }

/// Resolves `host` and `port` into socket addresses, like `getaddrinfo(3)`
/// (Python's `socket.getaddrinfo`). `host` nil with `.passive` or `""` is the
/// wildcard address, `"<broadcast>"` is 255.255.255.255, non-ASCII names are
/// IDNA-encoded; IP literals and numeric ports need no lookup.
///
/// - Throws: `AddressInfoError` (e.g. `EAI_NONAME`, "Name or service not
///   known"), `SystemError`, `InvalidArgument` for a port outside 0...65535
///   or an unsupported family, `CancellationError`, `TimeoutError`.
public func getaddrinfo(_ host: String?, _ port: ServicePort? = nil, family: AddressFamily = .unspecified,
                        type: SocketType = .any, proto: IPProtocol = .any,
                        flags: AddressInfoFlags = []) async throws -> [AddressInfo] {
    try await currentResolver.getaddrinfo(host: host, port: port, family: family, type: type, proto: proto, flags: flags)
}

/// The first IPv4 address of `host`, as text (Python's `socket.gethostbyname`).
///
/// - Throws: `AddressInfoError` when the name has no IPv4 address.
public func gethostbyname(_ host: String) async throws -> String {
    try await currentResolver.gethostbyname(host)
}

/// The canonical name, aliases and IPv4 addresses of `host` (Python's
/// `socket.gethostbyname_ex`).
///
/// - Throws: `AddressInfoError` for an unknown name, `HostError` when the
///   host database has no entry.
public func gethostbynameEx(_ host: String) async throws -> HostEntry {
    try await currentResolver.gethostbynameEx(host)
}

/// The name, aliases and addresses for an address, or for a host name
/// (resolved first), as Python's `socket.gethostbyaddr` gives them.
///
/// - Throws: `HostError` (e.g. `HOST_NOT_FOUND`, "Unknown host") when the
///   address has no name, `AddressInfoError` when a name does not resolve.
public func gethostbyaddr(_ address: String) async throws -> HostEntry {
    try await currentResolver.gethostbyaddr(address)
}

/// The host and service names for a socket address, like `getnameinfo(3)`
/// (Python's `socket.getnameinfo`).
///
/// - Throws: `AddressInfoError` (e.g. `EAI_NONAME` with `.nameRequired`),
///   `InvalidArgument` for a Unix address or a host that is not numeric.
public func getnameinfo(_ address: SocketAddress, flags: NameInfoFlags = []) async throws -> (host: String, service: String) {
    try await currentResolver.getnameinfo(address, flags: flags)
}

/// A fully qualified domain name for `name`, as Python's `socket.getfqdn`
/// finds it: surrounding whitespace is ignored; an empty name, "0.0.0.0" or
/// "::" means this host (`gethostname`); then the first of the host's
/// official name and aliases (from `gethostbyaddr`) that contains a dot, else
/// the official name. When the lookup fails, `name` itself.
///
/// - Throws: only when the wait is interrupted (`CancellationError`,
///   `TimeoutError`, `HubError`); lookup failures return `name`.
public func getfqdn(_ name: String = "") async throws -> String {
    var name = trimmingWhitespace(name)
    if name.isEmpty || name == "0.0.0.0" || name == "::" { name = hostName() }
    let entry: HostEntry
    do {
        entry = try await currentResolver.gethostbyaddr(name)
    } catch is AddressInfoError, is HostError, is SystemError, is InvalidArgument {
        return name
    }
    return ([entry.name] + entry.aliases).first { $0.contains(".") } ?? entry.name
}

/// This host's name, `gethostname(2)`.
private func hostName() -> String {
    withUnsafeTemporaryAllocation(of: CChar.self, capacity: 256) { buffer in
        guard Glibc.gethostname(buffer.baseAddress!, buffer.count - 1) == 0 else { return "" }
        buffer[buffer.count - 1] = 0
        return String(cString: buffer.baseAddress!)
    }
}

/// `text` without leading and trailing whitespace (Python's `str.strip()`).
private func trimmingWhitespace(_ text: String) -> String {
    let scalars = text.unicodeScalars
    guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
          let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
    return String(scalars[first...last])
}
