import CAres
#if canImport(Glibc)
import Glibc
#endif

/// The `ares` backend: c-ares 1.18 driven by a hub's libev loop. No threads;
/// thousands of lookups in flight on one hub.
///
/// - One c-ares channel per resolver, touched only on its hub's thread (c-ares
///   is not thread-safe); calls from other hubs' tasks hop there and back.
/// - Timeouts are c-ares' own (`AresOptions.timeout`, sub-second values
///   honoured): the loop's timer is re-armed from `ares_timeout()`.
/// - IP literals, numeric ports and the special names are answered by the
///   shared front end without c-ares; a numeric port is never handed to
///   c-ares as a service (that costs a services-file lookup per call).
/// - A name in the hosts file gets exactly the file's addresses, for every
///   family, as with the system backends (c-ares alone would ask DNS for the
///   family the file lacks).
/// - Cancelling a waiting task (or an enclosing `withTimeout`) returns at
///   once; c-ares finishes that query in the background and its answer is
///   dropped. Other queries are untouched.
/// - Errors are gevent's: c-ares statuses map to `AddressInfoError` /
///   `HostError` with the system's messages where there is a system
///   equivalent, else the c-ares code with `ARES_ENAME: <ares_strerror>`
///   (e.g. `ARES_ETIMEOUT: Timeout while contacting DNS servers`). A query
///   that could not open its socket because the process is out of
///   descriptors throws `SystemError` (EMFILE, ENFILE), not ARES_ECONNREFUSED.
/// - At most `AresOptions.maxActiveLookups` lookups are handed to c-ares at
///   once; later ones queue (FIFO) on the hub, which keeps bursts from
///   overflowing UDP buffers. Beyond `AresOptions.maxInFlight` lookups
///   (queued ones included) a call throws `HubError.saturated`.
/// - Hub shutdown destroys the channel: waiting calls throw `HubError.shutDown`;
///   after `close()` calls throw `ResolverClosedError`.
/// - Results: c-ares' RFC 6724 order; socket type and protocol filled in as
///   gevent does (no `SOCK_RAW` entries).
public final class AresResolver: Resolver, @unchecked Sendable {
    /// "ares".
    public var name: String { "ares" }
    /// The hub whose loop drives the channel.
    public let hub: Hub
    /// The options the channel was made with.
    public let options: AresOptions

    let channel: AresChannel
    let hosts: AresHostsFile
    let hostsBeforeDNS: Bool
    let hostsAfterDNS: Bool
    let useDNS: Bool

    /// Makes a resolver whose channel runs on `hub`'s loop.
    ///
    /// - Parameters:
    ///   - hub: default: the current hub, else `Hub.default`.
    ///   - options: unset fields come from resolv.conf.
    /// - Throws: `InvalidArgument` for bad options, `HubError.shutDown` if the
    ///   hub is shut down, an `AddressInfoError` if c-ares cannot start.
    public init(hub: Hub? = nil, options: AresOptions = AresOptions()) throws {
        let hub = hub ?? Hub.current ?? Hub.default
        guard !hub.isShutDown else { throw HubError.shutDown(hub: hub.name) }
        self.hub = hub
        self.options = options
        let channel = try AresChannel(hub: hub, options: options)
        self.channel = channel
        self.hosts = AresHostsFile(path: options.hostsFilePath, checkInterval: options.hostsFileCheckInterval)
        let order = channel.lookups
        let files = order.firstIndex(of: .hostsFile)
        let dns = order.firstIndex(of: .dns)
        useDNS = dns != nil
        hostsBeforeDNS = files != nil && (dns == nil || files! < dns!)
        hostsAfterDNS = files != nil && !hostsBeforeDNS
        let name = hub.name
        hub.onShutdown { [weak channel] in channel?.destroy(error: HubError.shutDown(hub: name)) }
    }

    deinit {
        // Pending c-ares callbacks need the channel: it goes on the hub thread.
        let channel = self.channel
        hub.execute { channel.destroy(error: ResolverClosedError(resolver: "ares")) }
    }

    // MARK: The five calls

    /// `getaddrinfo`: the shared front end, the hosts file, then
    /// `ares_getaddrinfo` (no service: ports are set on the results).
    public func getaddrinfo(host: String?, port: ServicePort?, family: AddressFamily, type: SocketType,
                            proto: IPProtocol, flags: AddressInfoFlags) async throws -> [AddressInfo] {
        try channel.checkOpen()
        // glibc refuses bits it does not know (AI_* and its IDN flags: 0x7ff).
        guard flags.rawValue & ~0x7FF == 0 else { throw AddressInfoError(code: AddressInfoError.badFlags) }
        switch try LookupFrontEnd.addressPlan(host: host, port: port, family: family, type: type, proto: proto, flags: flags) {
        case .answer(let results): return results
        case .local(let query): return try query.run()
        case .lookup(let query):
            // Without a host, for a literal (inet_aton forms included) or with
            // AI_NUMERICHOST there is no name to look up: only the services
            // file is involved, which the C library reads at once.
            guard let name = query.host, query.flags & AI_NUMERICHOST == 0, !Self.isAddressLiteral(name) else {
                return try query.run()
            }
            return try await addresses(name: name, query: query)
        }
    }

    /// The C library's entry for an address literal (no lookup involved), as
    /// CPython gets it: checked with `getaddrinfo(AF_INET)`, then `gethostbyname_r`.
    static func systemHostEntry(_ literal: String) throws -> HostEntry {
        let found = try SystemCalls.addressInfo(host: literal, service: nil, family: AF_INET, type: 0, proto: 0, flags: 0)
        guard !found.isEmpty else { throw AddressInfoError(code: AddressInfoError.noName) }
        let (entry, family) = try SystemCalls.hostByName(literal)
        guard family == AF_INET, !entry.addresses.isEmpty else { throw SystemError(code: EAFNOSUPPORT) }
        return entry
    }

    /// Whether glibc's `getaddrinfo` takes `name` as an address without a lookup.
    static func isAddressLiteral(_ name: String) -> Bool {
        // Only a leading digit (inet_aton, which also skips blanks) or a
        // colon (IPv6) can make an address: skip the parsing for other names.
        guard let first = name.utf8.first else { return false }
        let digitOrBlank = (first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9")) || first == 32 || (9...13).contains(first)
        guard digitOrBlank || name.utf8.contains(UInt8(ascii: ":")) else { return false }
        var v4 = in_addr()
        if inet_aton(name, &v4) != 0 { return true }
        var v6 = in6_addr()
        guard let percent = name.utf8.firstIndex(of: UInt8(ascii: "%")) else { return inet_pton(AF_INET6, name, &v6) == 1 }
        return inet_pton(AF_INET6, String(name[..<percent]), &v6) == 1
    }

    /// The first IPv4 address of `host` (`gethostbynameEx`'s first).
    public func gethostbyname(_ host: String) async throws -> String {
        try channel.checkOpen()
        switch try LookupFrontEnd.hostByNamePlan(host) {
        case .answer(let address): return address
        case .local(let name), .lookup(let name):
            // inet_aton forms ("127.1") and v4-mapped IPv6 need no lookup.
            if Self.isAddressLiteral(name) {
                let found = try SystemCalls.addressInfo(host: name, service: nil, family: AF_INET, type: 0, proto: 0, flags: 0)
                guard let first = found.first else { throw AddressInfoError(code: AddressInfoError.noName) }
                return first.address.host
            }
            let entry = try await hostEntry(name: name)
            guard let first = entry.addresses.first else { throw AresErrorMapping.hostEntryError(ARES_ENOTFOUND) }
            return first
        }
    }

    /// `gethostbyname_ex`: the hosts file, then `ares_getaddrinfo(AF_INET)`
    /// with the entry built as the system builds it (`ares_gethostbyname` is
    /// the same call, but names the first CNAME target, not the canonical name).
    public func gethostbynameEx(_ host: String) async throws -> HostEntry {
        try channel.checkOpen()
        switch try LookupFrontEnd.hostEntryPlan(host) {
        case .answer(let entry): return entry
        case .local(let name), .lookup(let name):
            if Self.isAddressLiteral(name) { return try Self.systemHostEntry(name) }
            return try await hostEntry(name: name)
        }
    }

    /// `gethostbyaddr`: the hosts file, then a PTR query through the channel
    /// (`ares_query`: unlike `ares_gethostbyaddr` it keeps the failure's
    /// status). A name is resolved first (its first address).
    public func gethostbyaddr(_ address: String) async throws -> HostEntry {
        try channel.checkOpen()
        switch try LookupFrontEnd.hostByAddressPlan(address) {
        case .answer(let entry): return entry
        case .local(let name), .lookup(let name):
            let target: SocketAddress
            if let literal = try? SocketAddress(numericHost: name, port: 0) {
                target = literal
            } else {
                let found = try await getaddrinfo(host: name, port: nil, family: .unspecified, type: .datagram,
                                                  proto: .any, flags: [])
                guard let first = found.first else { throw AresErrorMapping.addressInfoError(ARES_ENOTFOUND) }
                target = first.address
            }
            return try await reverse(target)
        }
    }

    /// `getnameinfo`: the host from `gethostbyaddr`'s lookup (numeric when
    /// there is no name and `nameRequired` is not set), the service from the
    /// services file.
    public func getnameinfo(_ address: SocketAddress, flags: NameInfoFlags) async throws -> (host: String, service: String) {
        try channel.checkOpen()
        // glibc refuses bits it does not know (NI_* and its IDN flags: 0xff).
        guard flags.rawValue & ~0xFF == 0 else { throw AddressInfoError(code: AddressInfoError.badFlags) }
        switch try LookupFrontEnd.nameInfoPlan(address, flags: flags) {
        case .answer(let names): return names
        case .local(let query): return try query.run()
        case .lookup(let query):
            // A numeric host needs no lookup: only the services file, read at once.
            guard query.flags & NI_NUMERICHOST == 0 else { return try query.run() }
            return try await names(query.address, flags: NameInfoFlags(rawValue: query.flags))
        }
    }

    /// Destroys the channel on the hub: waiting calls and later ones throw
    /// `ResolverClosedError`. Idempotent.
    public func close() async {
        let channel = self.channel
        if hub.isCurrent {
            channel.destroy(error: ResolverClosedError(resolver: name))
        } else {
            // A hub that is shut down has destroyed the channel already.
            _ = try? await hub.run { channel.destroy(error: ResolverClosedError(resolver: "ares")) }
        }
    }

    /// Starts closing without waiting (on the hub thread at once when called
    /// there, as the hub does when it shuts down: then waiting calls get
    /// `HubError.shutDown`).
    public func beginClose() {
        let channel = self.channel
        let error: any Error & Sendable = hub.isShutDown ? HubError.shutDown(hub: hub.name) : ResolverClosedError(resolver: name)
        hub.execute { channel.destroy(error: error) }
    }

    /// Counts for leak checks: lookups in flight, c-ares sockets watched,
    /// whether the timeout timer is armed.
    public func statistics() async throws -> AresStatistics {
        let channel = self.channel
        return try await hub.run {
            let state = channel.state
            return AresStatistics(lookupsInFlight: channel.inFlight, sockets: state.sockets, timerArmed: state.timerArmed)
        }
    }
}

/// What an `AresResolver`'s channel holds at one moment.
public struct AresStatistics: Sendable, Hashable {
    /// Lookups started and not yet finished: in c-ares (abandoned ones
    /// included) or queued for the window (`AresOptions.maxActiveLookups`).
    public var lookupsInFlight: Int
    /// c-ares sockets with a watcher on the loop.
    public var sockets: Int
    /// Whether the timeout timer is armed.
    public var timerArmed: Bool

    /// Creates a value (for comparisons).
    public init(lookupsInFlight: Int, sockets: Int, timerArmed: Bool) {
        self.lookupsInFlight = lookupsInFlight
        self.sockets = sockets
        self.timerArmed = timerArmed
    }
}
