import EvergreenTestSupport
@testable import Resolvers
import Synchronization
import Testing

/// `AresOptions` and `AresNameserver`: parsing and validation (no lookups).
@Suite("c-ares options")
struct AresOptionsTests {
    @Test func nameserversParse() throws {
        let cases: [(String, String, UInt16?, AddressFamily)] = [
            ("127.0.0.1", "127.0.0.1", nil, .inet),
            ("127.0.0.1:5353", "127.0.0.1", 5353, .inet),
            ("::1", "::1", nil, .inet6),
            ("[::1]", "::1", nil, .inet6),
            ("[::1]:5353", "::1", 5353, .inet6),
            ("2001:db8::53", "2001:db8::53", nil, .inet6),
        ]
        for (text, address, port, family) in cases {
            let server = try AresNameserver(parsing: text)
            #expect(server.address == address, "\(text)")
            #expect(server.port == port, "\(text)")
            #expect(server.family == family, "\(text)")
        }
    }

    @Test(arguments: ["", "localhost", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:53x",
                      "[::1", "[::1]5353", "[127.0.0.1]:53", "1.2.3", "::1:53:", "[::1]:"])
    func badNameserversAreClearErrors(text: String) {
        #expect(throws: InvalidArgument.self) { try AresNameserver(parsing: text) }
    }

    @Test func nameserversPrintAsTheyParse() throws {
        for text in ["127.0.0.1", "127.0.0.1:5353", "::1", "[::1]:5353"] {
            #expect(try AresNameserver(parsing: text).description == text)
        }
    }

    @Test func badOptionsAreRefusedBeforeAnyChannelExists() {
        var options = AresOptions()
        options.timeout = .zero
        #expect(throws: InvalidArgument("c-ares timeout must be positive, got 0.0 seconds")) { try options.validate() }
        options = AresOptions()
        options.tries = 0
        #expect(throws: InvalidArgument.self) { try options.validate() }
        options = AresOptions()
        options.ndots = -1
        #expect(throws: InvalidArgument.self) { try options.validate() }
        options = AresOptions()
        options.lookups = [.dns, .dns]
        #expect(throws: InvalidArgument.self) { try options.validate() }
        options = AresOptions()
        options.searchDomains = ["bad domain"]
        #expect(throws: InvalidArgument.self) { try options.validate() }
        options = AresOptions()
        options.maxActiveLookups = 0
        #expect(throws: InvalidArgument("maxActiveLookups must be at least 1, got 0")) { try options.validate() }
        options = AresOptions()
        options.maxInFlight = 0
        #expect(throws: InvalidArgument.self) { try options.validate() }
        let hub = Hub(name: "ares-options", threadPoolSize: 1)
        defer { hub.shutdown() }
        #expect(throws: InvalidArgument.self) { try AresResolver(hub: hub, options: options) }
    }

    @Test func timeoutsBecomeWholeMillisecondsRoundedUp() {
        var options = AresOptions()
        #expect(options.timeoutMilliseconds == nil)
        for (timeout, ms) in [(Duration.milliseconds(200), Int32(200)), (.microseconds(500), 1), (.microseconds(1_000_100), 1001),
                              (.seconds(3), 3000)] {
            options.timeout = timeout
            #expect(options.timeoutMilliseconds == ms)
        }
    }

    @Test func flagsNeverCarryNoCheckResp() {
        let all = AresFlags(rawValue: 0x1ff)
        #expect(all == [.useTCP, .primary, .ignoreTruncation, .noRecursion, .stayOpen, .noSearch, .noAliases, .edns])
        #expect(all.description == "useTCP|primary|ignoreTruncation|noRecursion|stayOpen|noSearch|noAliases|edns")
    }

    @Test func aResolverOnAShutDownHubIsRefused() throws {
        let hub = Hub(name: "ares-gone", threadPoolSize: 1)
        hub.shutdown()
        var options = AresOptions()
        options.nameservers = [try AresNameserver(parsing: "127.0.0.1:53")]
        #expect(throws: HubError.shutDown(hub: "ares-gone")) { try AresResolver(hub: hub, options: options) }
    }
}

/// `AresOptions.maxActiveLookups`: the window of lookups handed to c-ares,
/// with later ones queued first in first out (against a fake server).
@Suite("c-ares lookup window", .timeLimit(.minutes(1)))
struct AresWindowTests {
    /// Lookups waiting for room in the window (hub thread).
    private func queued(_ resolver: AresResolver) async throws -> Int {
        try await resolver.hub.run { resolver.channel.queued }
    }

    /// Spawns a lookup of `name` and returns once it waits in the queue
    /// (`count` lookups waiting); its end goes to `finished`.
    private func spawnQueued(_ name: String, _ resolver: AresResolver, hub: Hub, expecting count: Int,
                             finished: FinishLog? = nil) async throws -> Task<[AddressInfo], any Error> {
        let task = hub.spawn {
            let found = try await resolver.getaddrinfo(host: name, family: .inet, type: .stream)
            finished?.append(name)
            return found
        }
        guard try await poll(until: { try await queued(resolver) >= count }) else { throw TestTimeout("\(name) never queued") }
        return task
    }

    @Test func theDefaultWindowIs64() {
        #expect(AresOptions().maxActiveLookups == 64)
    }

    @Test func lookupsBeyondTheWindowWaitAndStartInOrder() async throws {
        try await withAresFixture(timeout: .seconds(20), configure: { $0.maxActiveLookups = 1 }) { resolver, server, hub in
            let first = hub.spawn { try await resolver.getaddrinfo(host: "slow.fake.test", family: .inet, type: .stream) }
            await server.waitForQuery("slow.fake.test")
            let order = FinishLog()
            var later: [Task<[AddressInfo], any Error>] = []
            for (index, name) in ["n1.fake.test", "n2.fake.test", "n3.fake.test"].enumerated() {
                later.append(try await spawnQueued(name, resolver, hub: hub, expecting: index + 1, finished: order))
            }
            // Queued lookups have sent nothing, and count against maxInFlight.
            #expect(["n1", "n2", "n3"].allSatisfy { server.count(of: "\($0).fake.test") == 0 })
            #expect(try await resolver.statistics().lookupsInFlight == 4)
            server.releaseHeld()
            #expect(try await first.value.map(\.address.host) == ["192.0.2.88"])
            for (index, task) in later.enumerated() {
                #expect(try await task.value.map(\.address.host) == ["192.0.2.\(index + 1)"])
            }
            // One at a time through a window of one: they finish in the order they came.
            #expect(order.names == ["n1.fake.test", "n2.fake.test", "n3.fake.test"])
            #expect(try await resolver.statistics() == AresStatistics(lookupsInFlight: 0, sockets: 0, timerArmed: false))
        }
    }

    @Test func aCancelledQueuedLookupLeavesAtOnceAndNeverReachesTheServer() async throws {
        try await withAresFixture(timeout: .seconds(20), configure: { $0.maxActiveLookups = 1 }) { resolver, server, hub in
            let first = hub.spawn { try await resolver.getaddrinfo(host: "slow.fake.test", family: .inet, type: .stream) }
            await server.waitForQuery("slow.fake.test")
            let cancelled = try await spawnQueued("n5.fake.test", resolver, hub: hub, expecting: 1)
            let kept = try await spawnQueued("n6.fake.test", resolver, hub: hub, expecting: 2)
            cancelled.cancel()
            await #expect(throws: CancellationError.self) { try await cancelled.value }
            // Gone from the queue while the window is still full.
            #expect(try await queued(resolver) == 1)
            #expect(try await resolver.statistics().lookupsInFlight == 2)
            server.releaseHeld()
            _ = try await first.value
            #expect(try await kept.value.map(\.address.host) == ["192.0.2.6"])
            #expect(server.count(of: "n5.fake.test") == 0)
            #expect(try await resolver.statistics().lookupsInFlight == 0)
        }
    }

    @Test func aTimeoutScopeEndsAQueuedLookup() async throws {
        try await withAresFixture(timeout: .seconds(20), configure: { $0.maxActiveLookups = 1 }) { resolver, server, hub in
            let first = hub.spawn { try await resolver.getaddrinfo(host: "slow.fake.test", family: .inet, type: .stream) }
            await server.waitForQuery("slow.fake.test")
            await #expect(throws: TimeoutError.self) {
                try await hub.run {
                    try await withTimeout(.milliseconds(50)) { try await resolver.getaddrinfo(host: "n7.fake.test", family: .inet, type: .stream) }
                }
            }
            #expect(try await queued(resolver) == 0)
            server.releaseHeld()
            _ = try await first.value
            #expect(server.count(of: "n7.fake.test") == 0)
        }
    }

    @Test func queuedLookupsCountAgainstMaxInFlight() async throws {
        try await withAresFixture(timeout: .seconds(20), configure: {
            $0.maxActiveLookups = 1
            $0.maxInFlight = 2
        }) { resolver, server, hub in
            let first = hub.spawn { try await resolver.getaddrinfo(host: "slow.fake.test", family: .inet, type: .stream) }
            await server.waitForQuery("slow.fake.test")
            let second = try await spawnQueued("n8.fake.test", resolver, hub: hub, expecting: 1)
            await #expect(throws: HubError.saturated(what: "c-ares lookups in flight on hub 'ares-test'", limit: 2)) {
                try await resolver.getaddrinfo(host: "n9.fake.test", family: .inet, type: .stream)
            }
            server.releaseHeld()
            _ = try await first.value
            #expect(try await second.value.map(\.address.host) == ["192.0.2.8"])
            #expect(server.count(of: "n9.fake.test") == 0)
        }
    }

    @Test func closingFailsQueuedLookupsWithoutSendingThem() async throws {
        try await withAresFixture(timeout: .seconds(20), configure: { $0.maxActiveLookups = 1 }) { resolver, server, hub in
            let first = hub.spawn { try await resolver.getaddrinfo(host: "slow.fake.test", family: .inet, type: .stream) }
            await server.waitForQuery("slow.fake.test")
            let second = try await spawnQueued("n10.fake.test", resolver, hub: hub, expecting: 1)
            let third = hub.spawn { try await resolver.gethostbyaddr("192.0.2.4") }
            while try await queued(resolver) < 2 { await Task.yield() }
            await resolver.close()
            await #expect(throws: ResolverClosedError(resolver: "ares")) { try await first.value }
            await #expect(throws: ResolverClosedError(resolver: "ares")) { try await second.value }
            await #expect(throws: ResolverClosedError(resolver: "ares")) { try await third.value }
            #expect(server.count(of: "n10.fake.test") == 0)
            #expect(server.count(of: "4.2.0.192.in-addr.arpa") == 0)
            #expect(try await resolver.statistics() == AresStatistics(lookupsInFlight: 0, sockets: 0, timerArmed: false))
        }
    }

    @Test func hubShutdownFailsQueuedLookups() async throws {
        let server = try FakeDNSServer()
        defer { server.stop() }
        let hub = Hub(name: "ares-window-shutdown", threadPoolSize: 1)
        var options = try aresTestOptions(server, timeout: .seconds(20))
        options.maxActiveLookups = 1
        let resolver = try AresResolver(hub: hub, options: options)
        let first = hub.spawn { try await resolver.getaddrinfo(host: "slow.fake.test", family: .inet, type: .stream) }
        await server.waitForQuery("slow.fake.test")
        let second = try await spawnQueued("n11.fake.test", resolver, hub: hub, expecting: 1)
        hub.shutdown()
        await #expect(throws: HubError.shutDown(hub: "ares-window-shutdown")) { try await first.value }
        await #expect(throws: HubError.shutDown(hub: "ares-window-shutdown")) { try await second.value }
        #expect(server.count(of: "n11.fake.test") == 0)
    }

    @Test func theWindowIsAConfigurationSetting() throws {
        // Code, environment and file all reach AresOptions; the default is the option's own.
        #expect(try ConfigurationLoader(environment: [:]).load().aresOptions.maxActiveLookups == 64)
        #expect(try ConfigurationLoader(environment: [:]).load().valueText(of: .maxActiveLookups) == "64")
        var code = ResolverConfiguration()
        code.maxActiveLookups = 200
        let fromCode = try ConfigurationLoader(code: code, environment: [:]).load()
        #expect(fromCode.aresOptions.maxActiveLookups == 200)
        #expect(fromCode.source(of: .maxActiveLookups) == .code)
        let fromEnvironment = try ConfigurationLoader(environment: ["EVERGREEN_MAX_ACTIVE_LOOKUPS": "8"]).load()
        #expect(fromEnvironment.aresOptions.maxActiveLookups == 8)
        for bad in ["0", "1000001", "-3", "many"] {
            #expect(throws: ConfigurationError.self, "\(bad)") {
                try ConfigurationLoader(environment: ["EVERGREEN_MAX_ACTIVE_LOOKUPS": bad]).load()
            }
        }
        code.maxActiveLookups = 0
        #expect(throws: ConfigurationError.self) { try ConfigurationLoader(code: code, environment: [:]).load() }
    }

    @Test func cancelledEntriesDoNotPileUpInTheQueue() {
        var queue = AresLookupQueue()
        var started: [Int] = []
        var kept: [AresPendingLookup] = []
        for index in 0..<1000 {
            let lookup = AresPendingLookup()
            lookup.prepare(start: { _ in started.append(index) }, fail: { _ in })
            queue.append(lookup)
            // Every lookup but each tenth is cancelled while it waits.
            if index % 10 == 0 {
                kept.append(lookup)
            } else {
                let removed = queue.cancel(lookup)
                #expect(removed)
            }
            #expect(queue.storage <= 2 * queue.count + 64)
        }
        #expect(queue.count == 100)
        let strangerRemoved = queue.cancel(AresPendingLookup())
        #expect(!strangerRemoved)
        let fake = OpaquePointer(bitPattern: 1)!
        while let next = queue.popFirst() { next.run(on: fake) }
        #expect(started == Array(stride(from: 0, to: 1000, by: 10)))
        #expect(queue.isEmpty && queue.storage <= 64)
        let startedRemoved = queue.cancel(kept[0])
        #expect(!startedRemoved)
    }
}

/// The names of lookups in the order they finished.
final class FinishLog: Sendable {
    private let log = Mutex<[String]>([])
    func append(_ name: String) { log.withLock { $0.append(name) } }
    var names: [String] { log.withLock { $0 } }
}

struct TestTimeout: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
