import Resolvers
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The channel on the loop: many lookups at once, the hosts file, cleanup.
@Suite("c-ares channel (fake server)", .timeLimit(.minutes(1)))
struct AresChannelTests {
    @Test func aThousandConcurrentLookupsOnOneHubAllComplete() async throws {
        // Short tries: a query the kernel drops in the burst costs 0.5 s, not 5.
        try await withAresFixture(timeout: .milliseconds(500), tries: 4) { resolver, server, hub in
            let count = 1000
            let results = try await hub.run {
                try await withThrowingTaskGroup(of: (Int, [AddressInfo]).self) { group in
                    for i in 0..<count {
                        group.addTask {
                            (i, try await resolver.getaddrinfo(host: "n\(i).fake.test", port: 80, family: .inet, type: .stream))
                        }
                    }
                    var all: [Int: [AddressInfo]] = [:]
                    for try await (i, result) in group { all[i] = result }
                    return all
                }
            }
            #expect(results.count == count)
            for i in 0..<count {
                #expect(results[i] == [AddressInfo(family: .inet, type: .stream, proto: .tcp,
                                                   address: .inet(host: "192.0.2.\(i % 256)", port: 80))])
            }
            #expect(server.count(of: "n999.fake.test") >= 1)
            let stats = try await resolver.statistics()
            #expect(stats.lookupsInFlight == 0)
            // Without ARES_FLAG_STAYOPEN c-ares closes its sockets once idle,
            // and the timer stops with the last lookup.
            #expect(stats.sockets == 0)
            #expect(!stats.timerArmed)
            #expect(try await hub.statistics().pendingWaits == 0)
        }
    }

    @Test func lookupsFromAnotherHubHopToTheResolversHub() async throws {
        try await withAresFixture { resolver, _, _ in
            let other = Hub(name: "ares-other", threadPoolSize: 1)
            defer { other.shutdown() }
            let results = try await other.run {
                try await resolver.getaddrinfo(host: "n7.fake.test", family: .inet, type: .datagram)
            }
            #expect(results.map(\.address) == [.inet(host: "192.0.2.7", port: 0)])
        }
    }

    @Test func stayOpenKeepsTheSocketBetweenLookups() async throws {
        try await withAresFixture(configure: { $0.flags = [.stayOpen] }) { resolver, _, _ in
            _ = try await resolver.getaddrinfo(host: "ok.fake.test", family: .inet)
            #expect(try await resolver.statistics().sockets == 1)
            await resolver.close()
            #expect(try await resolver.statistics().sockets == 0)
        }
    }

    @Test func useTCPSendsEveryQueryOverTCP() async throws {
        try await withAresFixture(configure: { $0.flags = [.useTCP] }) { resolver, server, _ in
            let results = try await resolver.getaddrinfo(host: "n9.fake.test", family: .inet, type: .stream)
            #expect(results.map(\.address) == [.inet(host: "192.0.2.9", port: 0)])
            #expect(server.tcpCount(of: "n9.fake.test") == 1)
        }
    }

    @Test func searchDomainsApplyToShortNames() async throws {
        try await withAresFixture(configure: { $0.searchDomains = ["fake.test"] }) { resolver, server, _ in
            let results = try await resolver.getaddrinfo(host: "n5", family: .inet, type: .stream)
            #expect(results.map(\.address) == [.inet(host: "192.0.2.5", port: 0)])
            #expect(server.count(of: "n5.fake.test") == 1)
        }
        try await withAresFixture(configure: {
            $0.searchDomains = ["fake.test"]
            $0.flags = [.noSearch]
        }) { resolver, server, _ in
            _ = try await resolver.getaddrinfo(host: "n5", family: .inet)
            #expect(server.count(of: "n5") == 1)
            #expect(server.count(of: "n5.fake.test") == 0)
        }
    }

    @Test func aSilentFirstServerFallsThroughToTheNextUnlessPrimary() async throws {
        let silentFirst = try FakeDNSServer(), answering = try FakeDNSServer()
        defer { silentFirst.stop(); answering.stop() }
        for primary in [false, true] {
            let hub = Hub(name: "ares-two", threadPoolSize: 1)
            defer { hub.shutdown() }
            var options = try aresTestOptions(silentFirst, timeout: .milliseconds(100), tries: 1)
            options.nameservers.append(try AresNameserver(parsing: answering.address))
            if primary { options.flags = [.primary] }
            let resolver = try AresResolver(hub: hub, options: options)
            // "silent" is silent on both: "n4" only on a server told to ignore it.
            let name = primary ? "n41.fake.test" : "n40.fake.test"
            silentFirst.ignore(name)
            if primary {
                await #expect(throws: aresError(12, "ARES_ETIMEOUT", "Timeout while contacting DNS servers")) {
                    try await resolver.getaddrinfo(host: name, family: .inet)
                }
                #expect(answering.count(of: name) == 0)
            } else {
                let results = try await resolver.getaddrinfo(host: name, family: .inet, type: .stream)
                #expect(results.map(\.address) == [.inet(host: "192.0.2.40", port: 0)])
                #expect(answering.count(of: name) == 1)
            }
            #expect(silentFirst.count(of: name) == 1)
        }
    }

    @Test func rotateSpreadsQueriesOverTheServers() async throws {
        let first = try FakeDNSServer(), second = try FakeDNSServer()
        defer { first.stop(); second.stop() }
        let hub = Hub(name: "ares-rotate", threadPoolSize: 1)
        defer { hub.shutdown() }
        var options = try aresTestOptions(first)
        options.nameservers.append(try AresNameserver(parsing: second.address))
        options.rotate = true
        let resolver = try AresResolver(hub: hub, options: options)
        for i in 0..<20 { _ = try await resolver.getaddrinfo(host: "n\(i).fake.test", family: .inet) }
        let counts = (0..<20).map { (first.count(of: "n\($0).fake.test"), second.count(of: "n\($0).fake.test")) }
        #expect(counts.allSatisfy { $0.0 + $0.1 == 1 })
        #expect(counts.contains { $0.0 == 1 } && counts.contains { $0.1 == 1 })
    }

    @Test func theUDPPortOptionAppliesToServersWithoutOne() async throws {
        let server = try FakeDNSServer()
        defer { server.stop() }
        let hub = Hub(name: "ares-port", threadPoolSize: 1)
        defer { hub.shutdown() }
        var options = try aresTestOptions(server)
        options.nameservers = [try AresNameserver(parsing: "127.0.0.1")]
        options.udpPort = server.port
        options.tcpPort = server.port
        let resolver = try AresResolver(hub: hub, options: options)
        let results = try await resolver.getaddrinfo(host: "tc.fake.test", family: .inet, type: .stream)
        #expect(results.map(\.address) == [.inet(host: "192.0.2.53", port: 0)])
        #expect(server.tcpCount(of: "tc.fake.test") == 1)
    }

    @Test func canonicalNamesComeOnTheFirstResultOnly() async throws {
        try await withAresFixture { resolver, _, _ in
            let results = try await resolver.getaddrinfo(host: "ok.fake.test", family: .inet, flags: .canonicalName)
            #expect(results.map(\.canonicalName) == ["ok.fake.test", ""])
        }
    }

    @Test func aServiceNameIsLookedUpByCAres() async throws {
        try await withAresFixture { resolver, _, _ in
            let results = try await resolver.getaddrinfo(host: "ok.fake.test", port: "http", family: .inet, type: .stream)
            #expect(results.map(\.address) == [.inet(host: "192.0.2.1", port: 80)])
            await #expect(throws: AddressInfoError(code: AddressInfoError.service)) {
                try await resolver.getaddrinfo(host: "ok.fake.test", port: "no-such-service", family: .inet, type: .stream)
            }
        }
    }
}
