#if canImport(Glibc)
import Glibc
#endif

/// `getaddrinfo` results for an IP literal and a numeric port, built without
/// calling the C library: the same entries, in the same order, with the same
/// errors as glibc's `gaih_inet` gives for them.
///
/// glibc makes one entry per (address, socket type) pair. The socket types
/// come from its table below: with neither a type nor a protocol asked for,
/// the three default rows (STREAM/TCP, DGRAM/UDP, RAW/0); otherwise the first
/// row that matches both. The conformance suite checks these against the real
/// `getaddrinfo` for every family, type, protocol and flag combination it lists.
enum NumericAddressInfo {
    /// One row of glibc's `gaih_inet_typeproto` table.
    struct TypeProto {
        let type: Int32
        let proto: Int32
        /// Matches any protocol and reports the one asked for (SOCK_RAW).
        let anyProtocol: Bool
        /// A service (even a numeric one) is refused with `EAI_SERVICE`.
        let refusesService: Bool
        /// Listed when neither a type nor a protocol is given.
        let isDefault: Bool
    }

    /// glibc's table, in its order (Linux defines every row's constants).
    static let table: [TypeProto] = [
        TypeProto(type: Int32(SOCK_STREAM.rawValue), proto: Int32(IPPROTO_TCP), anyProtocol: false, refusesService: false, isDefault: true),
        TypeProto(type: Int32(SOCK_DGRAM.rawValue), proto: Int32(IPPROTO_UDP), anyProtocol: false, refusesService: false, isDefault: true),
        TypeProto(type: Int32(SOCK_DCCP.rawValue), proto: Int32(IPPROTO_DCCP), anyProtocol: false, refusesService: false, isDefault: false),
        TypeProto(type: Int32(SOCK_DGRAM.rawValue), proto: Int32(IPPROTO_UDPLITE), anyProtocol: false, refusesService: false, isDefault: false),
        TypeProto(type: Int32(SOCK_STREAM.rawValue), proto: Int32(IPPROTO_SCTP), anyProtocol: false, refusesService: false, isDefault: false),
        TypeProto(type: Int32(SOCK_SEQPACKET.rawValue), proto: Int32(IPPROTO_SCTP), anyProtocol: false, refusesService: false, isDefault: false),
        TypeProto(type: Int32(SOCK_RAW.rawValue), proto: 0, anyProtocol: true, refusesService: true, isDefault: true),
    ]

    /// The flags whose effect on a literal is modelled here; any other flag
    /// sends the call to the C library.
    static let modelledFlags: Int32 = AI_PASSIVE | AI_CANONNAME | AI_NUMERICHOST | AI_NUMERICSERV | AI_V4MAPPED

    /// The (type, protocol) pairs glibc lists, in its order.
    ///
    /// - Throws: `AddressInfoError` `EAI_SOCKTYPE` or `EAI_SERVICE` as glibc does.
    static func socketTypes(type: Int32, proto: Int32, hasService: Bool) throws -> [(type: Int32, proto: Int32)] {
        guard type != 0 || proto != 0 else {
            return table.lazy.filter(\.isDefault).map { ($0.type, $0.proto) }
        }
        guard let row = table.first(where: {
            (type == 0 || type == $0.type) && (proto == 0 || $0.anyProtocol || proto == $0.proto)
        }) else {
            throw AddressInfoError(code: type != 0 ? AddressInfoError.socketType : AddressInfoError.service)
        }
        if hasService && row.refusesService { throw AddressInfoError(code: AddressInfoError.service) }
        return [(row.type, row.anyProtocol ? proto : row.proto)]
    }

    /// The results for `host`, an IPv4 or IPv6 literal (`inet_pton` syntax,
    /// no scope), or nil when `host` is not one.
    ///
    /// - Parameters:
    ///   - host: the name as it would be passed to `getaddrinfo`.
    ///   - port: the numeric port, or nil when no service is given.
    /// - Throws: `AddressInfoError` exactly where glibc fails.
    static func results(host: String, port: UInt16?, family: Int32, type: Int32, proto: Int32,
                        flags: Int32) throws -> [AddressInfo]? {
        let address: SocketAddress
        let resultFamily: AddressFamily
        var v4 = in_addr()
        var v6 = in6_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            // Type and protocol are checked before the address (same order as glibc).
            let types = try socketTypes(type: type, proto: proto, hasService: port != nil)
            if family == AF_UNSPEC || family == AF_INET {
                address = .inet(host: SocketAddress.format(v4), port: port ?? 0)
                resultFamily = .inet
            } else if flags & AI_V4MAPPED != 0 {
                address = .inet6(host: SocketAddress.format(mapped(v4)), port: port ?? 0)
                resultFamily = .inet6
            } else {
                throw AddressInfoError(code: AddressInfoError.addressFamily)
            }
            return entries(address, family: resultFamily, types: types, canonical: flags & AI_CANONNAME != 0 ? host : "")
        }
        guard !host.utf8.contains(UInt8(ascii: "%")), inet_pton(AF_INET6, host, &v6) == 1 else { return nil }
        let types = try socketTypes(type: type, proto: proto, hasService: port != nil)
        if family == AF_UNSPEC || family == AF_INET6 {
            address = .inet6(host: SocketAddress.format(v6), port: port ?? 0)
            resultFamily = .inet6
        } else if let embedded = unmapped(v6) {
            address = .inet(host: SocketAddress.format(embedded), port: port ?? 0)
            resultFamily = .inet
        } else {
            throw AddressInfoError(code: AddressInfoError.addressFamily)
        }
        return entries(address, family: resultFamily, types: types, canonical: flags & AI_CANONNAME != 0 ? host : "")
    }

    private static func entries(_ address: SocketAddress, family: AddressFamily, types: [(type: Int32, proto: Int32)],
                                canonical: String) -> [AddressInfo] {
        var results: [AddressInfo] = []
        results.reserveCapacity(types.count)
        for (index, pair) in types.enumerated() {
            results.append(AddressInfo(family: family, type: SocketType(rawValue: pair.type),
                                       proto: IPProtocol(rawValue: pair.proto),
                                       canonicalName: index == 0 ? canonical : "", address: address))
        }
        return results
    }

    /// `::ffff:a.b.c.d` for an IPv4 address.
    static func mapped(_ v4: in_addr) -> in6_addr {
        var v6 = in6_addr()
        withUnsafeMutableBytes(of: &v6) { bytes in
            bytes[10] = 0xff
            bytes[11] = 0xff
            withUnsafeBytes(of: v4) { source in
                for i in 0..<4 { bytes[12 + i] = source[i] }
            }
        }
        return v6
    }

    /// The IPv4 address inside a v4-mapped IPv6 address, else nil.
    static func unmapped(_ v6: in6_addr) -> in_addr? {
        withUnsafeBytes(of: v6) { bytes -> in_addr? in
            guard bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff else { return nil }
            var v4 = in_addr()
            withUnsafeMutableBytes(of: &v4) { target in
                for i in 0..<4 { target[i] = bytes[12 + i] }
            }
            return v4
        }
    }
}
