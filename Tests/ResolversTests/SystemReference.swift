@testable import Resolvers
#if canImport(Glibc)
import Glibc
#endif

/// The system's answer to a conformance call: the C library called directly,
/// the way CPython's socket module calls it, with none of the front end's
/// shortcuts. Written independently of `LookupFrontEnd` and `SystemLookups`
/// so that comparing the two tests them; only the thin C wrappers
/// (`SystemCalls`) are shared.
///
/// Where Evergreen defines the meaning (the special names `""` and
/// `"<broadcast>"`, argument errors) the reference applies the documented
/// rule to the arguments before calling the C library (see
/// Fixtures/conformance/README.md). Non-ASCII names go to glibc with
/// `AI_IDN` in a UTF-8 locale, so glibc does the encoding for getaddrinfo.
enum SystemReference {
    /// glibc's `AI_IDN` (hidden from Swift behind __USE_GNU).
    static let aiIDN: Int32 = 0x0040

    /// glibc's IDNA conversion reads the locale's character set.
    private static let utf8Locale: Void = {
        _ = setlocale(LC_CTYPE, "C.UTF-8")
    }()

    static func run(_ call: ConformanceCall) -> ConformanceOutcome {
        _ = utf8Locale
        do {
            switch call {
            case .getaddrinfo(let host, let port, let family, let type, let proto, let flags):
                return .addresses(try getaddrinfo(host, port, family.rawValue, type.rawValue, proto.rawValue, flags.rawValue))
            case .gethostbyname(let host): return .address(try gethostbyname(host))
            case .gethostbynameEx(let host): return .entry(try gethostbynameEx(host))
            case .gethostbyaddr(let host): return .entry(try gethostbyaddr(host))
            case .getnameinfo(let host, let port, let flags):
                let names = try SystemCalls.nameInfo(try SocketAddress(numericHost: host, port: port), flags: flags.rawValue)
                return .names(host: names.host, service: names.service)
            }
        } catch {
            return ConformanceOutcome(error: error)
        }
    }

    static func isASCII(_ text: String) -> Bool { text.utf8.allSatisfy { $0 < 0x80 } }

    static func getaddrinfo(_ host: String?, _ port: ServicePort?, _ family: Int32, _ type: Int32, _ proto: Int32,
                            _ flags: Int32) throws -> [AddressInfo] {
        guard [AF_UNSPEC, AF_INET, AF_INET6].contains(family) else { throw InvalidArgument("family") }
        var service: String?
        switch port {
        case .none: service = nil
        case .number(let n)?:
            guard (0...65535).contains(n) else { throw InvalidArgument("port") }
            service = String(n)
        case .service(let text)?:
            if !text.isEmpty, text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber), Int(text).map({ $0 > 65535 }) ?? true {
                throw InvalidArgument("port")
            }
            service = text
        }
        var flags = flags
        var node = host
        if host == "" {
            node = nil
            flags |= AI_PASSIVE
            if service == nil { service = "0" }
        } else if host == "<broadcast>" {
            node = "255.255.255.255"
        }
        if let node, !isASCII(node) { flags |= aiIDN }
        return try SystemCalls.addressInfo(host: node, service: service, family: family, type: type, proto: proto, flags: flags)
    }

    /// CPython's `setipaddr(name, af)`: the address a name stands for.
    static func setipaddr(_ name: String, family: Int32) throws -> SocketAddress {
        if name.isEmpty {
            let results = try SystemCalls.addressInfo(host: nil, service: "0", family: family,
                                                      type: SocketType.datagram.rawValue, proto: 0, flags: AI_PASSIVE)
            guard results.count == 1 else { throw SystemError(code: 0, message: "wildcard resolved to multiple address") }
            return results[0].address
        }
        if name == "255.255.255.255" || name == "<broadcast>" {
            return .inet(host: "255.255.255.255", port: 0)
        }
        var v4 = in_addr()
        if (family == AF_INET || family == AF_UNSPEC), inet_pton(AF_INET, name, &v4) == 1 {
            return .inet(host: SocketAddress.format(v4), port: 0)
        }
        var v6 = in6_addr()
        if (family == AF_INET6 || family == AF_UNSPEC), !name.contains("%"), inet_pton(AF_INET6, name, &v6) == 1 {
            return .inet6(host: SocketAddress.format(v6), port: 0)
        }
        let flags = isASCII(name) ? 0 : aiIDN
        let results = try SystemCalls.addressInfo(host: name, service: nil, family: family, type: 0, proto: 0, flags: flags)
        return results[0].address
    }

    /// Evergreen's reading of the special names for the gethostby* calls.
    static func specialName(_ name: String) -> String {
        switch name {
        case "": return "0.0.0.0"
        case "<broadcast>": return "255.255.255.255"
        default: return name
        }
    }

    static func gethostbyname(_ host: String) throws -> String {
        try setipaddr(specialName(host), family: AF_INET).host
    }

    static func gethostbynameEx(_ host: String) throws -> HostEntry {
        let name = specialName(host)
        let address = try setipaddr(name, family: AF_INET)
        // CPython hands gethostbyname_r the IDNA-encoded bytes.
        let (entry, family) = try SystemCalls.hostByName(try IDNA.asciiName(name))
        guard family == address.family.rawValue else { throw SystemError(code: EAFNOSUPPORT) }
        return entry
    }

    static func gethostbyaddr(_ host: String) throws -> HostEntry {
        let address = try setipaddr(specialName(host), family: AF_UNSPEC)
        var bytes: [UInt8]
        switch address {
        case .inet(let text, _):
            var v4 = in_addr()
            _ = inet_pton(AF_INET, text, &v4)
            bytes = withUnsafeBytes(of: v4) { Array($0) }
        case .inet6(let text, _, _, _):
            var v6 = in6_addr()
            _ = inet_pton(AF_INET6, text, &v6)
            bytes = withUnsafeBytes(of: v6) { Array($0) }
        case .unix:
            throw SystemError(code: EAFNOSUPPORT)
        }
        let (entry, family) = try SystemCalls.hostByAddress(bytes, family: address.family.rawValue)
        guard family == address.family.rawValue else { throw SystemError(code: EAFNOSUPPORT) }
        return entry
    }
}
