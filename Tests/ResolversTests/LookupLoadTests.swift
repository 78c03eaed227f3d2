import EvergreenTestSupport
@testable import Resolvers
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// 10,000 lookups at once on one hub, for the `ares` and `thread` backends,
/// against the DNS world's bench names: every one completes with the
/// fixture's address, none is lost or fails, and the hub and the resolver
/// are back to where they started afterwards.
@Suite("Lookup load", .enabled(if: insideDNSWorld, "resolves names: run inside scripts/dnsworld"),
       .serialized, .timeLimit(.minutes(3)))
struct LookupLoadTests {
    static let count = 10_000

    @Test func tenThousandConcurrentAresLookups() async throws {
        let expected = try Self.benchRecords()
        let hub = Hub(name: "lookup-load-ares", threadPoolSize: 1)
        defer { hub.shutdown() }
        let baseline = try await hub.statistics()
        var options = AresOptions()
        // The socket stays open to the end, so that its drop counter can be read.
        options.flags = [.stayOpen]
        let resolver = try AresResolver(hub: hub, options: options)
        let outcome = try await Self.resolveAll(expected, with: resolver, on: hub)
        #expect(outcome.answered == Self.count)
        #expect(outcome.failures.isEmpty, "\(outcome.failures.count) failed, e.g. \(outcome.failures.prefix(5))")

        // No answer was dropped by the kernel on c-ares' side (the window
        // bounds the answers that can be waiting to be read).
        let sockets = try await hub.run { resolver.channel.socketDescriptors }
        #expect(sockets.count == 1)
        for fd in sockets {
            #expect(try udpDrops(fd) == 0, "datagrams dropped on c-ares' socket \(fd)")
        }
        #expect(try await resolver.statistics() == AresStatistics(lookupsInFlight: 0, sockets: 1, timerArmed: false))
        #expect(try await hub.run { resolver.channel.queued } == 0)
        await resolver.close()
        try await Self.expectBackToBaseline(hub, baseline)
    }

    @Test func tenThousandConcurrentThreadLookups() async throws {
        let expected = try Self.benchRecords()
        let hub = Hub(name: "lookup-load-thread", threadPoolSize: 1)
        defer { hub.shutdown() }
        let baseline = try await hub.statistics()
        let resolver = ThreadResolver()
        let outcome = try await Self.resolveAll(expected, with: resolver, on: hub)
        #expect(outcome.answered == Self.count)
        #expect(outcome.failures.isEmpty, "\(outcome.failures.count) failed, e.g. \(outcome.failures.prefix(5))")
        await resolver.close()
        try await Self.expectBackToBaseline(hub, baseline)
    }

    // MARK: Helpers

    struct Outcome {
        var answered = 0
        var failures: [String] = []
    }

    /// Starts one task per name, all waiting at a gate until the last has
    /// arrived, then lets them look up at once; checks every answer.
    static func resolveAll(_ expected: [(name: String, address: String)], with resolver: any Resolver,
                           on hub: Hub) async throws -> Outcome {
        try await hub.run {
            let gate = Event()
            let arrived = Counter()
            let total = expected.count
            return try await withThrowingTaskGroup(of: String?.self) { group in
                for (name, address) in expected {
                    group.addTask {
                        if arrived.increment() == total { gate.fire() }
                        await gate.wait()
                        do {
                            let found = try await resolver.getaddrinfo(host: name, port: nil, family: .inet, type: .stream,
                                                                       proto: .any, flags: [])
                            let hosts = found.map(\.address.host)
                            return hosts == [address] ? nil : "\(name): \(hosts), expected \(address)"
                        } catch {
                            return "\(name): \(error)"
                        }
                    }
                }
                var outcome = Outcome()
                for try await failure in group {
                    if let failure { outcome.failures.append(failure) } else { outcome.answered += 1 }
                }
                return outcome
            }
        }
    }

    /// The hub's waits and watchers are what they were before the load.
    static func expectBackToBaseline(_ hub: Hub, _ baseline: Hub.Statistics,
                                     sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let after = try await hub.statistics()
        #expect(after.pendingWaits == baseline.pendingWaits, sourceLocation: sourceLocation)
        #expect(after.activeWatchers == baseline.activeWatchers, sourceLocation: sourceLocation)
        #expect(after.queuedJobs == 0, sourceLocation: sourceLocation)
    }

    /// The bench names and addresses dnsmasq serves: the `host-record` lines
    /// of the world's `bench.conf` (b00000 ... b09999.bench.evergreen.test).
    static func benchRecords() throws -> [(name: String, address: String)] {
        guard let directory = getenv("DNSWORLD_DIR").map({ String(cString: $0) }) else {
            throw TestTimeout("DNSWORLD_DIR is not set")
        }
        let path = directory + "/bench.conf"
        guard let file = fopen(path, "r") else { throw TestTimeout("cannot open \(path)") }
        defer { fclose(file) }
        var records: [(name: String, address: String)] = []
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard text.hasPrefix("host-record=") else { continue }
            let fields = text.dropFirst("host-record=".count).split(separator: ",")
            guard fields.count == 2 else { throw TestTimeout("unexpected line in \(path): \(text)") }
            records.append((String(fields[0]), String(fields[1])))
        }
        #expect(records.count == count, "bench.conf has \(records.count) names")
        #expect(records.first?.name == "b00000.bench.evergreen.test" && records.last?.name == "b09999.bench.evergreen.test")
        return records
    }
}

/// A count shared by tasks.
final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    /// Adds one; returns the new count.
    func increment() -> Int { value.add(1, ordering: .relaxed).newValue }
}

/// The kernel's count of datagrams dropped on the UDP socket `fd` of this
/// process (the last column of /proc/net/udp or udp6, found by inode).
func udpDrops(_ fd: Int32) throws -> Int {
    var buffer = [CChar](repeating: 0, count: 64)
    let length = readlink("/proc/self/fd/\(fd)", &buffer, buffer.count - 1)
    guard length > 0 else { throw SystemError.lastError() }
    let link = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    guard link.hasPrefix("socket:["), link.hasSuffix("]") else { throw TestTimeout("fd \(fd) is \(link)") }
    let inode = link.dropFirst("socket:[".count).dropLast()
    for table in ["/proc/self/net/udp", "/proc/self/net/udp6"] {
        guard let file = fopen(table, "r") else { continue }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 512)
        while fgets(&line, Int32(line.count), file) != nil {
            let fields = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                .split(whereSeparator: { $0 == " " || $0 == "\n" })
            // sl local remote st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
            if fields.count >= 13, fields[9] == inode, let drops = Int(fields[12]) { return drops }
        }
    }
    throw TestTimeout("socket \(inode) not found in /proc/net/udp")
}
