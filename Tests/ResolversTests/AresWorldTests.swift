import Resolvers
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The c-ares backend against the DNS world's dnsmasq and fixture files
/// (inside `scripts/dnsworld run` only: these use the system resolv.conf).
@Suite("c-ares in the DNS world", .enabled(if: insideDNSWorld, "resolves names: run inside scripts/dnsworld"))
struct AresWorldTests {
    private func withSystemResolver(_ body: (AresResolver) async throws -> Void) async throws {
        let hub = Hub(name: "ares-world", threadPoolSize: 1)
        defer { hub.shutdown() }
        let resolver = try AresResolver(hub: hub)
        try await body(resolver)
        await resolver.close()
    }

    private func addresses(_ resolver: AresResolver, _ host: String, _ family: AddressFamily) async throws -> [String] {
        try await resolver.getaddrinfo(host: host, family: family, type: .stream).map(\.address.host)
    }

    @Test func hostsFileNamesGetExactlyTheFilesAddressesForEveryFamily() async throws {
        try await withSystemResolver { resolver in
            // DNS says 192.0.2.71; the hosts file says 192.0.2.70 and has no IPv6 address.
            #expect(try await addresses(resolver, "hostsfirst.evergreen.test", .unspecified) == ["192.0.2.70"])
            #expect(try await addresses(resolver, "hostsfirst.evergreen.test", .inet) == ["192.0.2.70"])
            await #expect(throws: AddressInfoError(code: AddressInfoError.noName, message: "Name or service not known")) {
                try await resolver.getaddrinfo(host: "hostsfirst.evergreen.test", family: .inet6)
            }
            let both = try await addresses(resolver, "hostsonly.evergreen.test", .unspecified)
            #expect(Set(both) == ["192.0.2.60", "2001:db8::60"])
            #expect(try await addresses(resolver, "hostsonly", .inet6) == ["2001:db8::60"])
            #expect(try await resolver.gethostbyname("hostsfirst.evergreen.test") == "192.0.2.70")
            let reverse = try await resolver.gethostbyaddr("192.0.2.60")
            #expect(reverse.name == "hostsonly.evergreen.test")
            // localhost as glibc orders it: ::1 first (RFC 6724).
            #expect(try await addresses(resolver, "localhost", .unspecified) == ["::1", "127.0.0.1"])
        }
    }

    @Test func systemDefaultsComeFromResolvConf() async throws {
        try await withSystemResolver { resolver in
            // Only `search evergreen.test` in the world's resolv.conf finds this.
            #expect(try await addresses(resolver, "searchonly", .inet) == ["192.0.2.40"])
            let alias = try await resolver.getaddrinfo(host: "alias.evergreen.test", family: .inet, type: .stream,
                                                       flags: .canonicalName)
            #expect(alias.first?.canonicalName == "dual.evergreen.test")
            let entry = try await resolver.gethostbynameEx("alias.evergreen.test")
            #expect(entry == HostEntry(name: "dual.evergreen.test",
                                       aliases: ["alias.evergreen.test", "alias-mid.evergreen.test"], addresses: ["192.0.2.30"]))
        }
    }

    @Test func anAnswerTooBigForUDPComesOverTCP() async throws {
        try await withSystemResolver { resolver in
            let big = try await addresses(resolver, "big.evergreen.test", .inet)
            #expect(Set(big) == Set((1...64).map { "198.51.100.\($0)" }))
        }
    }

    @Test func reverseLookupsAndNameInfo() async throws {
        try await withSystemResolver { resolver in
            #expect(try await resolver.gethostbyaddr("192.0.2.10").name == "one.evergreen.test")
            #expect(try await resolver.gethostbyaddr("198.51.100.99").name == "ptronly.evergreen.test")
            #expect(try await resolver.gethostbyaddr("2001:db8::30").name == "dual.evergreen.test")
            await #expect(throws: HostError(code: 1, message: "Unknown host")) { try await resolver.gethostbyaddr("192.0.2.99") }
            let names = try await resolver.getnameinfo(.inet(host: "192.0.2.10", port: 53), flags: .datagram)
            #expect(names.host == "one.evergreen.test")
            #expect(names.service == "domain")
        }
    }

    @Test func explicitIPv4AndIPv6NameserversWithPorts() async throws {
        for server in ["127.0.0.1:53", "[::1]:53", "::1"] {
            let hub = Hub(name: "ares-world-ns", threadPoolSize: 1)
            defer { hub.shutdown() }
            var options = try aresTestOptions(nameserver: server, timeout: .milliseconds(500), tries: 2)
            options.searchDomains = ["evergreen.test"]
            let resolver = try AresResolver(hub: hub, options: options)
            #expect(try await addresses(resolver, "one.evergreen.test", .inet) == ["192.0.2.10"], "\(server)")
            #expect(try await addresses(resolver, "searchonly", .inet) == ["192.0.2.40"], "\(server)")
            // Outside the zone dnsmasq refuses: c-ares reports it could not get an answer.
            await #expect(throws: aresError(11, "ARES_ECONNREFUSED", "Could not contact DNS servers")) {
                try await resolver.getaddrinfo(host: "www.nosuchtld", family: .inet)
            }
        }
    }
}
