import EvergreenTestSupport
import Resolvers
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `hub.shutdown()` from another thread while a private c-ares resolver has
/// lookups in flight to the DNS world's dnsmasq, hundreds of times: every
/// lookup ends with its answer or `HubError.shutDown`, shutdown returns,
/// the hub's threads are joined, and the hub, the resolver and their
/// descriptors (the channel's sockets, the loop) are freed.
@Suite("Races: hub shutdown against c-ares lookups",
       .enabled(if: insideDNSWorld, "resolves names: run inside scripts/dnsworld"), .timeLimit(.minutes(3)))
struct ShutdownRaceTests {
    @Test func shutdownFromAnotherThreadWhileLookupsAreInFlight() async throws {
        // A modest number of queries per hub: dnsmasq serves the whole suite.
        let iterations = raceIterations(1000)
        let hosts = ["one.evergreen.test", "dual.evergreen.test", "many.evergreen.test", "alias.evergreen.test", "here.evergreen.test"]
        let descriptorsBefore = DescriptorCensus.take()
        var names: [String] = []
        var freed: [Weak] = []
        let racer = RacerThread()
        defer { racer.stop() }
        var tally: [String: Int] = [:]
        for i in 0..<iterations {
            let name = "ar\(i)"
            names.append(name)
            let hub = Hub(name: name, threadPoolSize: 1)
            let resolver = try AresResolver(hub: hub, options: try aresTestOptions(nameserver: "127.0.0.1:53", timeout: .seconds(5)))
            freed.append(Weak(hub))
            freed.append(Weak(resolver))
            var lookups: [Task<Int, any Error>] = []
            for lane in 0..<8 {
                let host = lane == 7 ? "missing\(i).evergreen.test" : hosts[(i + lane) % hosts.count]
                let lookup: @Sendable () async throws -> Int = {
                    var answers = 0
                    for _ in 0..<2 { answers += try await resolver.getaddrinfo(host: host, family: .inet).count }
                    return answers
                }
                // Most from tasks on the hub; some hop there from outside.
                lookups.append(lane % 4 == 0 ? Task { try await lookup() } : hub.spawn { try await lookup() })
            }
            // Shut down at once, after a few turns, or once lookups are in flight.
            switch i % 3 {
            case 0: break
            case 1: for _ in 0..<Int.random(in: 0..<30) { await Task.yield() }
            default:
                for _ in 0..<10_000 {
                    if try await resolver.statistics().lookupsInFlight > 0 { break }
                    await Task.yield()
                }
            }
            await racer.run { hub.shutdown() }
            #expect(hub.isShutDown)
            for (lane, lookup) in lookups.enumerated() {
                let outcome: String
                switch await lookup.result {
                case .success(let count): outcome = count > 0 ? "answered" : "empty answer"
                case .failure(HubError.shutDown(let hubName)) where hubName == name: outcome = "shut down"
                case .failure(let error as AddressInfoError) where lane == 7 && error.code == AddressInfoError.noName:
                    outcome = "no such name"
                case .failure(let error): outcome = "\(type(of: error)): \(error)"
                }
                tally[outcome, default: 0] += 1
                #expect(["answered", "shut down", "no such name"].contains(outcome), "iteration \(i), lane \(lane): \(outcome)")
            }
        }
        print("shutdown vs c-ares lookups, \(iterations) hubs: \(tally.sorted { $0.key < $1.key })")
        let left = await threadsStillRunning(ofHubs: names)
        #expect(left.isEmpty, "threads still running: \(left.prefix(10))")
        _ = await poll { !freed.contains { $0.object != nil } }
        #expect(!freed.contains { $0.object != nil }, "\(freed.filter { $0.object != nil }.count) hubs or resolvers never freed")
        // Parallel tests hold descriptors of their own; a leaked channel
        // socket or loop per hub would be hundreds.
        try await expectDescriptorsBack(to: descriptorsBefore)
    }
}

private final class Weak: @unchecked Sendable {
    weak var object: AnyObject?
    init(_ object: AnyObject) { self.object = object }
}
