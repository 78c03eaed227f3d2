import Resolvers
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The c-ares backend against a fake DNS server on loopback that answers,
/// stays silent, fails or lies on purpose. Runs anywhere: c-ares is only
/// ever pointed at the fake server.
@Suite("c-ares faults (fake server)", .timeLimit(.minutes(1)))
struct AresFaultTests {
    @Test func anAnswerComesBackWithTypeAndProtocolFilledIn() async throws {
        try await withAresFixture { resolver, _, _ in
            let results = try await resolver.getaddrinfo(host: "ok.fake.test", family: .inet)
            #expect(results == [
                AddressInfo(family: .inet, type: .stream, proto: .tcp, address: .inet(host: "192.0.2.1", port: 0)),
                AddressInfo(family: .inet, type: .datagram, proto: .udp, address: .inet(host: "192.0.2.1", port: 0)),
            ])
            let typed = try await resolver.getaddrinfo(host: "ok.fake.test", port: 8080, family: .inet, type: .stream)
            #expect(typed == [AddressInfo(family: .inet, type: .stream, proto: .tcp, address: .inet(host: "192.0.2.1", port: 8080))])
            let byProto = try await resolver.getaddrinfo(host: "ok.fake.test", port: "53", family: .inet, proto: .udp)
            #expect(byProto == [AddressInfo(family: .inet, type: .datagram, proto: .udp, address: .inet(host: "192.0.2.1", port: 53))])
        }
    }

    @Test func silenceTimesOutAfterTheSubSecondTimeout() async throws {
        try await withAresFixture(timeout: .milliseconds(200), tries: 1) { resolver, server, _ in
            let elapsed = await aresElapsed {
                await #expect(throws: aresError(12, "ARES_ETIMEOUT", "Timeout while contacting DNS servers")) {
                    try await resolver.getaddrinfo(host: "silent.fake.test", family: .inet)
                }
            }
            #expect(server.count(of: "silent.fake.test") == 1)
            // A hang guard only: the suite runs hundreds of tests at once on two
            // cores, so wall time here says little. That 0.2 s takes 0.2 s (not
            // gevent's 1 s tick) is measured where timing belongs, outside the
            // parallel suite: `evergreen resolve --resolver ares --timeout 0.2`
            // against a silent server (see the note on issue 4).
            #expect(elapsed < .seconds(30))
        }
    }

    @Test func silenceIsTriedTriesTimes() async throws {
        try await withAresFixture(timeout: .milliseconds(100), tries: 3) { resolver, server, _ in
            await #expect(throws: aresError(12, "ARES_ETIMEOUT", "Timeout while contacting DNS servers")) {
                try await resolver.getaddrinfo(host: "silent.fake.test", family: .inet)
            }
            #expect(server.count(of: "silent.fake.test") == 3)
        }
    }

    /// c-ares 1.18 drops SERVFAIL and REFUSED answers (response checking),
    /// tries again, and when every try was refused reports the status it
    /// starts each query with: ARES_ECONNREFUSED.
    @Test func servfailAndRefusedAreRetriedThenCouldNotContact() async throws {
        try await withAresFixture(tries: 2) { resolver, server, _ in
            let refused = aresError(11, "ARES_ECONNREFUSED", "Could not contact DNS servers")
            await #expect(throws: refused) {
                try await resolver.getaddrinfo(host: "servfail.fake.test", family: .inet)
            }
            #expect(server.count(of: "servfail.fake.test") == 2)
            await #expect(throws: refused) {
                try await resolver.getaddrinfo(host: "refused.fake.test", family: .inet)
            }
            #expect(server.count(of: "refused.fake.test") == 2)
        }
    }

    @Test func nxdomainIsNameOrServiceNotKnown() async throws {
        try await withAresFixture { resolver, _, _ in
            let noName = AddressInfoError(code: AddressInfoError.noName, message: "Name or service not known")
            await #expect(throws: noName) { try await resolver.getaddrinfo(host: "nxdomain.fake.test") }
            await #expect(throws: noName) { try await resolver.gethostbynameEx("nxdomain.fake.test") }
            await #expect(throws: noName) { try await resolver.gethostbyname("nxdomain.fake.test") }
            await #expect(throws: HostError(code: 1, message: "Unknown host")) {
                try await resolver.gethostbyaddr("192.0.3.1")
            }
        }
    }

    @Test func aTruncatedAnswerIsRetriedOverTCP() async throws {
        try await withAresFixture { resolver, server, _ in
            let results = try await resolver.getaddrinfo(host: "tc.fake.test", family: .inet, type: .stream)
            #expect(results.map(\.address) == [.inet(host: "192.0.2.53", port: 0)])
            #expect(server.tcpCount(of: "tc.fake.test") == 1)
        }
    }

    @Test func garbageIsIgnoredUntilTheTimeout() async throws {
        try await withAresFixture(timeout: .milliseconds(200)) { resolver, server, _ in
            await #expect(throws: aresError(12, "ARES_ETIMEOUT", "Timeout while contacting DNS servers")) {
                try await resolver.getaddrinfo(host: "garbage.fake.test", family: .inet)
            }
            #expect(server.count(of: "garbage.fake.test") == 1)
        }
    }

    @Test func aMalformedAnswerIsABadResponse() async throws {
        try await withAresFixture { resolver, _, _ in
            await #expect(throws: aresError(10, "ARES_EBADRESP", "Misformatted DNS reply")) {
                try await resolver.getaddrinfo(host: "malformed.fake.test", family: .inet)
            }
        }
    }

    @Test func anAnswerWithTheWrongIDIsIgnored() async throws {
        try await withAresFixture { resolver, _, _ in
            let results = try await resolver.getaddrinfo(host: "spoof.fake.test", family: .inet, type: .stream)
            #expect(results.map(\.address) == [.inet(host: "192.0.2.77", port: 0)])
        }
    }

    @Test func noServerListeningIsConnectionRefusedPromptly() async throws {
        let hub = Hub(name: "ares-refused", threadPoolSize: 1)
        defer { hub.shutdown() }
        let dead = try FakeDNSServer.deadPort()
        defer { close(dead.fd) }
        let options = try aresTestOptions(nameserver: "127.0.0.1:\(dead.port)", timeout: .seconds(60), tries: 2)
        let resolver = try AresResolver(hub: hub, options: options)
        let elapsed = await aresElapsed {
            await #expect(throws: aresError(11, "ARES_ECONNREFUSED", "Could not contact DNS servers")) {
                try await resolver.getaddrinfo(host: "ok.fake.test", family: .inet)
            }
        }
        // Refused, not timed out: with a 60 s timeout and 2 tries a timeout
        // would take 2 minutes. Half a minute leaves room for a loaded
        // machine (or a sanitizer) without becoming a timing assertion.
        #expect(elapsed < .seconds(30))
    }

    @Test func aCancelledTaskLeavesAtOnceAndOtherQueriesCarryOn() async throws {
        try await withAresFixture(timeout: .seconds(20)) { resolver, server, hub in
            let slow = hub.spawn { try await resolver.getaddrinfo(host: "slow.fake.test", family: .inet) }
            await server.waitForQuery("slow.fake.test")
            slow.cancel()
            await #expect(throws: CancellationError.self) { try await slow.value }
            // The channel still works while the abandoned query waits.
            let other = try await resolver.getaddrinfo(host: "ok.fake.test", family: .inet, type: .stream)
            #expect(other.map(\.address) == [.inet(host: "192.0.2.1", port: 0)])
            #expect(try await resolver.statistics().lookupsInFlight == 1)
            // The late answer arrives before this one on the same socket and is dropped.
            server.releaseHeld()
            _ = try await resolver.getaddrinfo(host: "n2.fake.test", family: .inet)
            let stats = try await resolver.statistics()
            #expect(stats.lookupsInFlight == 0)
        }
    }

    @Test func aTimeoutScopeInterruptsALookup() async throws {
        try await withAresFixture(timeout: .seconds(20)) { resolver, _, _ in
            await #expect(throws: TimeoutError.self) {
                try await withTimeout(.milliseconds(50)) {
                    try await resolver.getaddrinfo(host: "silent.fake.test", family: .inet)
                }
            }
        }
    }

    @Test func beyondTheInFlightBoundALookupFailsAtOnce() async throws {
        try await withAresFixture(timeout: .seconds(20), configure: { $0.maxInFlight = 1 }) { resolver, server, hub in
            let first = hub.spawn { try await resolver.getaddrinfo(host: "slow.fake.test", family: .inet) }
            await server.waitForQuery("slow.fake.test")
            await #expect(throws: HubError.saturated(what: "c-ares lookups in flight on hub 'ares-test'", limit: 1)) {
                try await resolver.getaddrinfo(host: "ok.fake.test", family: .inet)
            }
            server.releaseHeld()
            let released = try await first.value
            #expect(released.first?.address == .inet(host: "192.0.2.88", port: 0))
            let after = try await resolver.getaddrinfo(host: "ok.fake.test", family: .inet)
            #expect(!after.isEmpty)
        }
    }

    @Test func closingFailsPendingAndLaterLookups() async throws {
        try await withAresFixture(timeout: .seconds(20)) { resolver, server, hub in
            let pending = hub.spawn { try await resolver.getaddrinfo(host: "slow.fake.test", family: .inet) }
            await server.waitForQuery("slow.fake.test")
            await resolver.close()
            await #expect(throws: ResolverClosedError(resolver: "ares")) { try await pending.value }
            await #expect(throws: ResolverClosedError(resolver: "ares")) {
                try await resolver.getaddrinfo(host: "ok.fake.test", family: .inet)
            }
            // Even calls that need no lookup.
            await #expect(throws: ResolverClosedError(resolver: "ares")) { try await resolver.gethostbyname("192.0.2.1") }
            await #expect(throws: ResolverClosedError(resolver: "ares")) {
                try await resolver.getnameinfo(.inet(host: "192.0.2.1", port: 80), flags: [.numericHost, .numericService])
            }
            await resolver.close()  // idempotent
            let stats = try await resolver.statistics()
            #expect(stats == AresStatistics(lookupsInFlight: 0, sockets: 0, timerArmed: false))
        }
    }

    @Test func hubShutdownFailsPendingLookups() async throws {
        let server = try FakeDNSServer()
        defer { server.stop() }
        let hub = Hub(name: "ares-shutdown", threadPoolSize: 1)
        let resolver = try AresResolver(hub: hub, options: try aresTestOptions(server, timeout: .seconds(20)))
        // As the hub's own resolver it is also closed by the hub (beginClose).
        hub.setResolver(resolver)
        let pending = Task { try await hub.resolver.getaddrinfo(host: "slow.fake.test", family: .inet) }
        await server.waitForQuery("slow.fake.test")
        hub.shutdown()
        await #expect(throws: HubError.shutDown(hub: "ares-shutdown")) { try await pending.value }
    }

    @Test func reverseLookupsUsePTRRecords() async throws {
        try await withAresFixture { resolver, _, _ in
            let entry = try await resolver.gethostbyaddr("192.0.2.7")
            #expect(entry == HostEntry(name: "host7.fake.test", aliases: [], addresses: ["192.0.2.7"]))
            let names = try await resolver.getnameinfo(.inet(host: "192.0.2.7", port: 80), flags: [])
            #expect(names.host == "host7.fake.test")
            #expect(names.service == "http")
            let numeric = try await resolver.getnameinfo(.inet(host: "192.0.2.7", port: 80), flags: .numericService)
            #expect(numeric.service == "80")
            let unknown = try await resolver.getnameinfo(.inet(host: "192.0.3.9", port: 0), flags: [])
            #expect(unknown.host == "192.0.3.9")
            #expect(unknown.service == "0")
            await #expect(throws: AddressInfoError(code: AddressInfoError.noName, message: "Name or service not known")) {
                try await resolver.getnameinfo(.inet(host: "192.0.3.9", port: 0), flags: .nameRequired)
            }
        }
    }

    @Test func gethostbynameUsesTheFirstIPv4Address() async throws {
        try await withAresFixture { resolver, _, _ in
            #expect(try await resolver.gethostbyname("dual.fake.test") == "192.0.2.1")
            let entry = try await resolver.gethostbynameEx("dual.fake.test")
            #expect(entry == HostEntry(name: "dual.fake.test", aliases: [], addresses: ["192.0.2.1"]))
            let both = try await resolver.getaddrinfo(host: "dual.fake.test", type: .stream)
            #expect(Set(both.map(\.address)) == [.inet(host: "192.0.2.1", port: 0), .inet6(host: "2001:db8::1", port: 0)])
        }
    }

    @Test func literalsAndNumericPortsNeedNoQuery() async throws {
        try await withAresFixture { resolver, server, _ in
            let results = try await resolver.getaddrinfo(host: "192.0.2.200", port: 443, family: .inet, type: .stream)
            #expect(results == [AddressInfo(family: .inet, type: .stream, proto: .tcp, address: .inet(host: "192.0.2.200", port: 443))])
            #expect(try await resolver.gethostbyname("192.0.2.201") == "192.0.2.201")
            #expect(server.count(of: "192.0.2.200") == 0)
            #expect(try await resolver.statistics().sockets == 0)
        }
    }
}
