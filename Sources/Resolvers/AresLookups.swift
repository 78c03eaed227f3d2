import CAres
#if canImport(Glibc)
import Glibc
#endif

// The lookup halves of `AresResolver`: the hosts file in its place in the
// lookup order, then one c-ares call. Each c-ares call is started on the hub
// thread by `AresChannel.lookup` (at once, or queued for the channel's window)
// and finished by its callback.
extension AresResolver {
    // MARK: getaddrinfo

    func addresses(name: String, query: AddressQuery) async throws -> [AddressInfo] {
        // Type, protocol and service are checked (and the service looked up)
        // before anything else, as glibc does.
        let shape = try AresResultShape.make(type: query.type, proto: query.proto, port: query.port,
                                             service: query.port == nil ? query.service : nil)
        let family = AddressFamily(rawValue: query.family)
        let canonical = query.flags & AI_CANONNAME != 0
        if hostsBeforeDNS, let found = hostsAddresses(name, family: family, shape: shape, canonical: canonical) { return found }
        guard useDNS else { throw AresErrorMapping.addressInfoError(ARES_ENOTFOUND) }
        do {
            return try await dnsAddresses(name, family: family, shape: shape, canonical: canonical)
        } catch let error as AddressInfoError where hostsAfterDNS && error.code == AddressInfoError.noName {
            if let found = hostsAddresses(name, family: family, shape: shape, canonical: canonical) { return found }
            throw error
        }
    }

    private func dnsAddresses(_ name: String, family: AddressFamily, shape: AresResultShape,
                              canonical: Bool) async throws -> [AddressInfo] {
        let channel = self.channel
        return try await channel.lookup { (handle, continuation: HubContinuation<[AddressInfo]>) in
            let request = AresAddressRequest(owner: channel, continuation: continuation, shape: shape, canonicalName: canonical)
            // No service (a service makes c-ares read the services file on
            // every call) and no ARES_AI_NOSORT: c-ares sorts by RFC 6724.
            var hints = ares_addrinfo_hints(ai_flags: canonical ? ARES_AI_CANONNAME : 0, ai_family: family.rawValue,
                                            ai_socktype: 0, ai_protocol: 0)
            ares_getaddrinfo(handle, name, nil, &hints, aresAddressCallback, Unmanaged.passRetained(request).toOpaque())
        }
    }

    /// The hosts file's answer, in the file's order.
    private func hostsAddresses(_ name: String, family: AddressFamily, shape: AresResultShape,
                                canonical: Bool) -> [AddressInfo]? {
        guard let lines = hosts.lines(for: name, family: family) else { return nil }
        let canonicalName = canonical ? lines[0].canonicalName : ""
        let addresses = lines.map { line -> SocketAddress in
            line.family == .inet ? .inet(host: line.address, port: 0) : .inet6(host: line.address, port: 0)
        }
        var results: [AddressInfo] = []
        for address in AresAddressSort.sorted(addresses) {
            AresAddressRequest.append(address, shape: shape, canonical: canonicalName, to: &results)
        }
        return results
    }

    // MARK: gethostbyname_ex

    func hostEntry(name: String) async throws -> HostEntry {
        if hostsBeforeDNS, let entry = hosts.hostEntry(for: name) { return entry }
        guard useDNS else { throw AresErrorMapping.hostEntryError(ARES_ENOTFOUND) }
        do {
            return try await dnsHostEntry(name)
        } catch let failure as AresStatusError {
            if hostsAfterDNS, Self.isNotFound(failure.status), let entry = hosts.hostEntry(for: name) { return entry }
            throw AresErrorMapping.hostEntryError(failure.status)
        }
    }

    /// `ares_gethostbyname(AF_INET)` is `ares_getaddrinfo` plus a conversion
    /// that names the first CNAME target instead of the canonical name; this
    /// makes the same call and converts as the system does.
    private func dnsHostEntry(_ name: String) async throws -> HostEntry {
        let channel = self.channel
        return try await channel.lookup { (handle, continuation: HubContinuation<HostEntry>) in
            let request = AresHostRequest(owner: channel, continuation: continuation)
            var hints = ares_addrinfo_hints(ai_flags: ARES_AI_CANONNAME, ai_family: AF_INET, ai_socktype: 0, ai_protocol: 0)
            ares_getaddrinfo(handle, name, nil, &hints, aresHostEntryCallback, Unmanaged.passRetained(request).toOpaque())
        }
    }

    /// "No such name" rather than a failure to ask.
    static func isNotFound(_ status: Int32) -> Bool {
        status == ARES_ENOTFOUND || status == ARES_ENONAME || status == ARES_ENODATA
    }
}
