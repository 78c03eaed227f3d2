#if canImport(Glibc)
import Glibc
#endif

/// A `getaddrinfo` call with its arguments checked and normalised: the host
/// is ASCII (IDNA-encoded) or nil, the port is text for the C library.
struct AddressQuery: Sendable {
    /// The name or literal to look up; nil for the wildcard/loopback address.
    var host: String?
    /// The service as the C library takes it (numeric text or a name).
    var service: String?
    /// The port when the service is numeric.
    var port: UInt16?
    var family: Int32
    var type: Int32
    var proto: Int32
    var flags: Int32

    /// Runs the query through the C library on the calling thread.
    func run() throws -> [AddressInfo] {
        try SystemCalls.addressInfo(host: host, service: service, family: family, type: type, proto: proto, flags: flags)
    }
}

/// What a backend has to do for a call, once the shared checks have run.
enum LookupPlan<Value: Sendable, Query: Sendable>: Sendable {
    /// Answered without any lookup.
    case answer(Value)
    /// Needs the C library, but touches no file and no network (a nil host
    /// with a numeric port, `AI_NUMERICHOST`, a scoped IPv6 literal, numeric
    /// `getnameinfo`): any backend may run it inline.
    case local(Query)
    /// Needs a real lookup: the hosts file, DNS, or the services file.
    case lookup(Query)
}

/// The behaviour every backend shares (gevent's `AbstractResolver`): argument
/// checks, the special names `""` and `"<broadcast>"`, IDNA for non-ASCII
/// names, and answers for IP literals and numeric ports without any lookup.
/// Backends then only differ in how they perform `.lookup` plans.
enum LookupFrontEnd {
    /// glibc's `AI_IDN` (behind __USE_GNU, so not visible to Swift).
    static let aiIDN: Int32 = 0x0040

    /// The host for the address lookup, after the special names: nil for `""`
    /// (the wildcard, with `AI_PASSIVE`), 255.255.255.255 for `"<broadcast>"`.
    static func specialHost(_ host: String?) -> (host: String?, wildcard: Bool) {
        switch host {
        case "": return (nil, true)
        case "<broadcast>": return ("255.255.255.255", false)
        default: return (host, false)
        }
    }

    /// A name for `gethostbyname*`/`gethostbyaddr`: `""` is 0.0.0.0 and
    /// `"<broadcast>"` 255.255.255.255 (as Python's socket module reads them),
    /// then checked and IDNA-encoded.
    static func hostName(_ name: String) throws -> String {
        switch name {
        case "": return "0.0.0.0"
        case "<broadcast>": return "255.255.255.255"
        default: return try asciiHost(name)
        }
    }

    /// `name` checked for NUL bytes and IDNA-encoded.
    static func asciiHost(_ name: String) throws -> String {
        guard !name.utf8.contains(0) else { throw InvalidArgument("host name must not contain a NUL byte: \(name.debugDescription)") }
        return try IDNA.asciiName(name)
    }

    /// Throws unless `family` is one a lookup can ask for.
    static func checkFamily(_ family: AddressFamily) throws {
        switch family {
        case .unspecified, .inet, .inet6: return
        default: throw InvalidArgument("unsupported address family \(family.rawValue) for a lookup: use AF_INET, AF_INET6 or AF_UNSPEC")
        }
    }

    /// The plan for `getaddrinfo(host, port, family, type, proto, flags)`.
    ///
    /// - Throws: `InvalidArgument` for a bad family, a port outside
    ///   0...65535 or a NUL byte; `AddressInfoError` for failures known
    ///   without a lookup (exactly those of the C library).
    static func addressPlan(host: String?, port: ServicePort?, family: AddressFamily, type: SocketType,
                            proto: IPProtocol, flags: AddressInfoFlags) throws -> LookupPlan<[AddressInfo], AddressQuery> {
        try checkFamily(family)
        var numericPort = try port?.numericValue()
        var service: String?
        switch port {
        case .none: service = nil
        case .number(let n)?: service = String(n)
        case .service(let text)?:
            guard !text.utf8.contains(0) else { throw InvalidArgument("service name must not contain a NUL byte: \(text.debugDescription)") }
            service = text
        }
        var flagBits = flags.rawValue
        let special = specialHost(host)
        if special.wildcard {
            flagBits |= AI_PASSIVE
            if service == nil {
                service = "0"
                numericPort = 0
            }
        }
        let name: String?
        do {
            name = try special.host.map(asciiHost)
        } catch let error as AddressInfoError where error.code == AddressInfoError.idnEncode {
            // glibc encodes the name only after checking the flags, socket type and service:
            // it reports whichever fails first when given the name as it is, with AI_IDN.
            return .local(AddressQuery(host: special.host, service: service, port: numericPort, family: family.rawValue,
                                       type: type.rawValue, proto: proto.rawValue, flags: flagBits | aiIDN))
        }
        let query = AddressQuery(host: name, service: service, port: numericPort, family: family.rawValue,
                                 type: type.rawValue, proto: proto.rawValue, flags: flagBits)
        // A service name needs the services file; unusual flags go to the C library as they are.
        let numericService = service == nil || numericPort != nil
        guard numericService, flagBits & ~NumericAddressInfo.modelledFlags == 0 else { return .lookup(query) }
        guard let name else { return .local(query) }
        if let results = try NumericAddressInfo.results(host: name, port: numericPort, family: family.rawValue,
                                                       type: type.rawValue, proto: proto.rawValue, flags: flagBits) {
            return .answer(results)
        }
        // Not an inet_pton literal: glibc still takes inet_aton forms and scoped IPv6 without a lookup.
        if flagBits & AI_NUMERICHOST != 0 || isScopedIPv6(name) { return .local(query) }
        return .lookup(query)
    }

    /// The plan for `gethostbyname(host)`: the address text, or the name to
    /// look up with `getaddrinfo(name, nil, AF_INET)` (its first result).
    static func hostByNamePlan(_ host: String) throws -> LookupPlan<String, String> {
        let name = try hostName(host)
        if let v4 = SocketAddress.parseIPv4(name) { return .answer(SocketAddress.format(v4)) }
        try refuseIPv6Literal(name)
        return .lookup(name)
    }

    /// The plan for `gethostbyname_ex(host)`: an entry, or the name to look up.
    static func hostEntryPlan(_ host: String) throws -> LookupPlan<HostEntry, String> {
        let name = try hostName(host)
        if let v4 = SocketAddress.parseIPv4(name) {
            // What gethostbyname_r answers for a dotted quad, without a lookup.
            return .answer(HostEntry(name: name, aliases: [], addresses: [SocketAddress.format(v4)]))
        }
        try refuseIPv6Literal(name)
        return .lookup(name)
    }

    /// The plan for `gethostbyaddr(address)`: always a lookup (of the name
    /// after the special names and IDNA).
    static func hostByAddressPlan(_ address: String) throws -> LookupPlan<HostEntry, String> {
        .lookup(try hostName(address))
    }

    /// The plan for `getnameinfo(address, flags)`.
    ///
    /// - Throws: `InvalidArgument` for a Unix address, a host that is not
    ///   numeric, or flow info above 0xfffff.
    static func nameInfoPlan(_ address: SocketAddress, flags: NameInfoFlags) throws -> LookupPlan<(host: String, service: String), NameQuery> {
        switch address {
        case .unix: throw InvalidArgument("getnameinfo needs an IPv4 or IPv6 address, not a Unix path")
        case .inet6(_, _, let flowInfo, _) where flowInfo > 0xfffff:
            throw InvalidArgument("flow info must be 0-1048575, got \(flowInfo)")
        default: break
        }
        try address.withSockAddr { _, _ in }  // a host that is not numeric throws here
        let query = NameQuery(address: address, flags: flags.rawValue)
        let numeric = NameInfoFlags.numericHost.rawValue | NameInfoFlags.numericService.rawValue
        return flags.rawValue & numeric == numeric ? .local(query) : .lookup(query)
    }

    /// IPv6 literals (not v4-mapped) cannot be IPv4 host names: glibc answers
    /// `EAI_ADDRFAMILY` without a lookup.
    private static func refuseIPv6Literal(_ name: String) throws {
        var v6 = in6_addr()
        guard !name.utf8.contains(UInt8(ascii: "%")), inet_pton(AF_INET6, name, &v6) == 1 else { return }
        if NumericAddressInfo.unmapped(v6) == nil { throw AddressInfoError(code: AddressInfoError.addressFamily) }
    }

    private static func isScopedIPv6(_ name: String) -> Bool {
        guard let percent = name.utf8.firstIndex(of: UInt8(ascii: "%")) else { return false }
        var v6 = in6_addr()
        return inet_pton(AF_INET6, String(name[..<percent]), &v6) == 1
    }
}

/// A `getnameinfo` call with its arguments checked.
struct NameQuery: Sendable {
    var address: SocketAddress
    var flags: Int32

    /// Runs the query through the C library on the calling thread.
    func run() throws -> (host: String, service: String) {
        try SystemCalls.nameInfo(address, flags: flags)
    }
}
