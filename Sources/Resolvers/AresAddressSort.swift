#if canImport(Glibc)
import Glibc
#endif

/// RFC 6724 destination address ordering for answers from the hosts file.
/// c-ares sorts what DNS returns; the hosts file is read by Evergreen, so its
/// answers are put in the same order here (as glibc does for the system
/// backends): e.g. `localhost` gives ::1 before 127.0.0.1.
///
/// Rules applied: 1 (reachable: a source address exists), 2 (matching scope),
/// 5 (matching label), 6 (higher precedence), 8 (smaller scope), 9 (longest
/// matching prefix, IPv6), 10 (original order). The source address comes from
/// connecting a UDP socket, which sends nothing.
enum AresAddressSort {
    /// `addresses` in RFC 6724 order; one address or none is returned as is.
    static func sorted(_ addresses: [SocketAddress]) -> [SocketAddress] {
        guard addresses.count > 1 else { return addresses }
        let keyed = addresses.enumerated().map { index, address -> Key in
            let destination = mapped(address)
            let source = sourceAddress(for: address).map(mapped)
            return Key(index: index, destination: destination, source: source)
        }
        return keyed.sorted(by: precedes).map { addresses[$0.index] }
    }

    /// One candidate, every address as 16 bytes (IPv4 as ::ffff:a.b.c.d).
    struct Key {
        let index: Int
        let destination: [UInt8]
        let source: [UInt8]?
    }

    static func precedes(_ a: Key, _ b: Key) -> Bool {
        // Rule 1: avoid unusable destinations.
        if (a.source != nil) != (b.source != nil) { return a.source != nil }
        // Rule 2: prefer matching scope.
        let scopeA = scope(a.destination), scopeB = scope(b.destination)
        let matchA = a.source.map { scope($0) == scopeA } ?? false
        let matchB = b.source.map { scope($0) == scopeB } ?? false
        if matchA != matchB { return matchA }
        // Rule 5: prefer matching label.
        let policyA = policy(a.destination), policyB = policy(b.destination)
        let labelA = a.source.map { policy($0).label == policyA.label } ?? false
        let labelB = b.source.map { policy($0).label == policyB.label } ?? false
        if labelA != labelB { return labelA }
        // Rule 6: prefer higher precedence.
        if policyA.precedence != policyB.precedence { return policyA.precedence > policyB.precedence }
        // Rule 8: prefer smaller scope.
        if scopeA != scopeB { return scopeA < scopeB }
        // Rule 9: longest matching prefix (IPv6 only, as c-ares does).
        if let sourceA = a.source, let sourceB = b.source, !isMappedIPv4(a.destination), !isMappedIPv4(b.destination) {
            let lengthA = commonPrefix(sourceA, a.destination), lengthB = commonPrefix(sourceB, b.destination)
            if lengthA != lengthB { return lengthA > lengthB }
        }
        // Rule 10: leave the order unchanged.
        return a.index < b.index
    }

    /// The address as 16 bytes.
    static func mapped(_ address: SocketAddress) -> [UInt8] {
        var v4 = in_addr(), v6 = in6_addr()
        if address.family == .inet, inet_pton(AF_INET, address.host, &v4) == 1 {
            return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] + withUnsafeBytes(of: v4) { Array($0) }
        }
        _ = inet_pton(AF_INET6, address.host, &v6)
        return withUnsafeBytes(of: v6) { Array($0) }
    }

    static func isMappedIPv4(_ bytes: [UInt8]) -> Bool {
        bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xff && bytes[11] == 0xff
    }

    /// RFC 6724 section 3.1 scope: 2 link-local, 5 site-local, 14 global.
    static func scope(_ bytes: [UInt8]) -> Int {
        if isMappedIPv4(bytes) {
            // 127/8 and 169.254/16 are link-local (RFC 6724 section 3.2).
            return bytes[12] == 127 || (bytes[12] == 169 && bytes[13] == 254) ? 2 : 14
        }
        if bytes[0] == 0xff { return Int(bytes[1] & 0x0f) }
        if bytes[0] == 0xfe && bytes[1] & 0xc0 == 0x80 { return 2 }
        if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return 2 }
        if bytes[0] == 0xfe && bytes[1] & 0xc0 == 0xc0 { return 5 }
        return 14
    }

    /// RFC 6724 section 2.1's default policy table: (precedence, label) of
    /// the longest matching prefix.
    static func policy(_ bytes: [UInt8]) -> (precedence: Int, label: Int) {
        if bytes[0..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return (50, 0) }  // ::1/128
        if isMappedIPv4(bytes) { return (35, 4) }                                       // ::ffff:0:0/96
        if bytes[0] == 0x20 && bytes[1] == 0x02 { return (30, 2) }                       // 2002::/16
        if bytes[0] == 0x20 && bytes[1] == 0x01 && bytes[2] == 0 && bytes[3] == 0 { return (5, 5) }  // 2001::/32
        if bytes[0] & 0xfe == 0xfc { return (3, 13) }                                    // fc00::/7
        if bytes[0..<12].allSatisfy({ $0 == 0 }) { return (1, 3) }                       // ::/96
        if bytes[0] == 0xfe && bytes[1] & 0xc0 == 0xc0 { return (1, 11) }                // fec0::/10
        if bytes[0] == 0x3f && bytes[1] == 0xfe { return (1, 12) }                       // 3ffe::/16
        return (40, 1)                                                                   // ::/0
    }

    static func commonPrefix(_ a: [UInt8], _ b: [UInt8]) -> Int {
        for index in 0..<16 where a[index] != b[index] {
            return index * 8 + (a[index] ^ b[index]).leadingZeroBitCount
        }
        return 128
    }

    /// The source address the kernel would use to reach `address`, or nil
    /// when there is no route.
    static func sourceAddress(for address: SocketAddress) -> SocketAddress? {
        let fd = socket(Int32(address.family.rawValue), Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard (try? address.withSockAddr({ connect(fd, $0, $1) })) == 0 else { return nil }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard ok == 0 else { return nil }
        return withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { try? SocketAddress($0, length: length) }
        }
    }
}
