import CAres
#if canImport(Glibc)
import Glibc
#endif

// Reverse lookups of `AresResolver`: the hosts file in its place in the
// lookup order, then a PTR query through the channel.
extension AresResolver {
    /// The entry for `address` (hosts file, then DNS).
    ///
    /// - Throws: `AresStatusError` for a c-ares failure (mapped by the caller),
    ///   or the channel's closing error.
    func reverseEntry(_ address: SocketAddress) async throws -> HostEntry {
        if hostsBeforeDNS, let entry = hosts.reverse(address) { return entry }
        // glibc never asks about :: (no name can have it).
        guard useDNS, address.host != "::" else { throw AresStatusError(status: ARES_ENOTFOUND) }
        do {
            return try await pointerLookup(address)
        } catch let failure as AresStatusError where hostsAfterDNS && Self.isNotFound(failure.status) {
            if let entry = hosts.reverse(address) { return entry }
            throw failure
        }
    }

    /// `gethostbyaddr` of a literal: herror as gevent maps it.
    func reverse(_ address: SocketAddress) async throws -> HostEntry {
        do {
            return try await reverseEntry(address)
        } catch let failure as AresStatusError {
            throw AresErrorMapping.hostError(failure.status)
        }
    }

    private func pointerLookup(_ address: SocketAddress) async throws -> HostEntry {
        guard let (name, raw, family) = Self.pointerName(address) else { throw AresStatusError(status: ARES_ENOTIMP) }
        let channel = self.channel
        return try await channel.lookup { (handle, continuation: HubContinuation<HostEntry>) in
            let request = AresHostRequest(owner: channel, continuation: continuation)
            request.address = raw
            request.family = family
            ares_query(handle, name, Int32(ns_c_in.rawValue), Int32(ns_t_ptr.rawValue), aresPointerCallback,
                       Unmanaged.passRetained(request).toOpaque())
        }
    }

    /// `d.c.b.a.in-addr.arpa` or the nibbles of an IPv6 address under
    /// `ip6.arpa`, with the raw address and its family.
    static func pointerName(_ address: SocketAddress) -> (String, in6_addr, Int32)? {
        var raw = in6_addr()
        switch address {
        case .inet(let host, _):
            var v4 = in_addr()
            guard inet_pton(AF_INET, host, &v4) == 1 else { return nil }
            withUnsafeMutableBytes(of: &raw) { target in withUnsafeBytes(of: v4) { target.copyMemory(from: $0) } }
            let bytes = withUnsafeBytes(of: v4) { Array($0) }
            return (bytes.reversed().map { String($0) }.joined(separator: ".") + ".in-addr.arpa", raw, AF_INET)
        case .inet6(let host, _, _, _):
            guard inet_pton(AF_INET6, host, &raw) == 1 else { return nil }
            let digits = Array("0123456789abcdef")
            var name = ""
            withUnsafeBytes(of: raw) { bytes in
                for byte in bytes.reversed() {
                    name.append(digits[Int(byte & 0x0f)])
                    name.append(".")
                    name.append(digits[Int(byte >> 4)])
                    name.append(".")
                }
            }
            return (name + "ip6.arpa", raw, AF_INET6)
        case .unix:
            return nil
        }
    }

    // MARK: getnameinfo

    /// The host from a reverse lookup (numeric when there is no name and
    /// none is required), the service from the services file.
    func names(_ address: SocketAddress, flags: NameInfoFlags) async throws -> (host: String, service: String) {
        var host: String
        do {
            let entry = try await reverseEntry(address)
            host = flags.contains(.noFQDN) ? Self.withoutLocalDomain(entry.name) : entry.name
        } catch let failure as AresStatusError {
            guard Self.isNotFound(failure.status) else { throw AresErrorMapping.addressInfoError(failure.status) }
            if flags.contains(.nameRequired) { throw AresErrorMapping.addressInfoError(ARES_ENOTFOUND) }
            host = address.host
            if case .inet6(_, _, _, let scope) = address, scope != 0 {
                var name = [CChar](repeating: 0, count: Int(IF_NAMESIZE) + 1)
                let named = if_indextoname(scope, &name) != nil
                host += "%" + (named ? String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                                     : String(scope))
            }
        }
        return (host, Self.serviceName(port: address.port, flags: flags))
    }

    /// What `getnameinfo` reports for a port: its name for TCP (UDP with
    /// `NI_DGRAM`) from the services file, else the number.
    static func serviceName(port: UInt16, flags: NameInfoFlags) -> String {
        guard !flags.contains(.numericService) else { return String(port) }
        var entry = servent()
        var result: UnsafeMutablePointer<servent>?
        let name = withUnsafeTemporaryAllocation(of: CChar.self, capacity: 4096) { buffer -> String? in
            _ = getservbyport_r(Int32(port.bigEndian), flags.contains(.datagram) ? "udp" : "tcp", &entry,
                                buffer.baseAddress, buffer.count, &result)
            return result.flatMap { $0.pointee.s_name.map { String(cString: $0) } }
        }
        return name ?? String(port)
    }

    /// `name` without this host's domain, as `NI_NOFQDN` asks.
    static func withoutLocalDomain(_ name: String) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return name }
        let host = String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let dot = host.firstIndex(of: ".") else { return name }
        let domain = host[dot...].lowercased()
        guard name.count > domain.count, name.lowercased().hasSuffix(domain) else { return name }
        return String(name.dropLast(domain.count))
    }
}
