import EvergreenTestSupport
import Testing
@testable import Resolvers
#if canImport(Glibc)
import Glibc
#endif

/// gevent's comparison for its c-ares resolver (test__socket_dns.py), made
/// stricter for the fixture zone: results are compared as sets of (family,
/// type, protocol, address) without the SOCK_RAW entries c-ares never makes;
/// they must intersect with the system's, and for the DNS world's own names
/// (whose answers are known) be equal, canonical names and host entries
/// included. Errors must be of the same kind (gaierror, herror, OSError,
/// argument error); codes and messages are c-ares' own (see `AresResolver`).
enum AresConformance {
    static let comparison = ConformanceComparison(
        name: "gevent's ares normalisation; fixture names exactly",
        matches: { call, expected, actual in matches(call, expected, actual) }
    )

    /// Names the DNS world defines: their answers must be the system's exactly.
    static func isFixture(_ host: String) -> Bool {
        let name = host.lowercased()
        return name.hasSuffix(".evergreen.test") || ["searchonly", "hostsonly", "localhost", "ip6-localhost", "ip6-loopback"].contains(name)
    }

    struct Entry: Hashable {
        var family: AddressFamily
        var type: SocketType
        var proto: IPProtocol
        var address: SocketAddress
    }

    static func entries(_ list: [AddressInfo], dropRaw: Bool) -> Set<Entry> {
        Set(list.filter { !dropRaw || ($0.type != .raw && $0.proto.rawValue != 132) }
            .map { Entry(family: $0.family, type: $0.type, proto: $0.proto, address: $0.address) })
    }

    /// gevent's error kinds: a name-resolution error (gaierror or herror,
    /// which its test accepts for each other: CPython's gethostbyname*
    /// report through getaddrinfo, c-ares through herror), an OS error, or
    /// an argument error.
    static func sameKind(_ expected: ConformanceOutcome, _ actual: ConformanceOutcome) -> Bool {
        func kind(_ outcome: ConformanceOutcome) -> String? {
            switch outcome {
            case .failure(let kind, _, _): return kind == "herror" ? "gaierror" : kind
            case .invalidArgument: return "argument"
            case .otherError(let text): return text
            default: return nil
            }
        }
        return kind(expected) != nil && kind(expected) == kind(actual)
    }

    /// The system's addresses for `host` (the reference's getaddrinfo).
    static func systemAddresses(_ host: String, family: Int32) -> Set<String> {
        let found = (try? SystemReference.getaddrinfo(host, nil, family, 0, 0, 0)) ?? []
        return Set(found.map(\.address.host))
    }

    static func matches(_ call: ConformanceCall, _ expected: ConformanceOutcome, _ actual: ConformanceOutcome) -> Bool {
        if expected.isError || actual.isError { return sameKind(expected, actual) }
        switch (call, expected, actual) {
        case (.getaddrinfo(let host, _, _, let type, let proto, _), .addresses(let system), .addresses(let ares)):
            let dropRaw = type == .any && proto == .any
            let a = entries(system, dropRaw: dropRaw), b = entries(ares, dropRaw: dropRaw)
            guard let host, isFixture(host) else { return !a.isDisjoint(with: b) }
            return a == b && system.first?.canonicalName == ares.first?.canonicalName
        case (.gethostbyname(let host), .address(let system), .address(let ares)):
            // Several addresses: the first depends on the answer's order.
            return system == ares || systemAddresses(host, family: AF_INET).contains(ares)
        case (.gethostbyaddr(let host), .entry(let system), .entry(let ares))
            where !AresResolver.isAddressLiteral(host):
            // A name is reverse-resolved through its first address, which
            // depends on the answer's order when it has several.
            return system.name == ares.name && ares.addresses.allSatisfy(systemAddresses(host, family: AF_UNSPEC).contains)
        case (.gethostbynameEx(let host), .entry(let system), .entry(let ares)),
             (.gethostbyaddr(let host), .entry(let system), .entry(let ares)):
            // gevent: alias lists may differ between c-ares and the system.
            if isFixture(host) || isFixture(system.name) {
                return system.name == ares.name && Set(system.addresses) == Set(ares.addresses)
            }
            return !Set(system.addresses).isDisjoint(with: ares.addresses)
        default:
            return expected == actual
        }
    }
}

/// The conformance cases of part 1 through the c-ares backend, against the
/// same dnsmasq, with the system's resolv.conf (inside the DNS world only).
@Suite("Conformance: ares", .enabled(if: insideDNSWorld, "resolves names: run inside scripts/dnsworld"))
struct AresConformanceTests {
    @Test("ares: gevent's normalised comparison with the system")
    func ares() async throws {
        let hub = Hub(name: "conformance-ares")
        defer { hub.shutdown() }
        let resolver = try AresResolver(hub: hub)
        let report = try await ConformanceHarness.run(ConformanceFixture.cases, expected: ConformanceFixture.system,
                                                      against: resolver, comparison: AresConformance.comparison, on: hub)
        await resolver.close()
        #expect(report.mismatches.isEmpty, "\(report)")
        print(report.description.split(separator: "\n").first ?? "")
    }

    @Test("ares through makeResolver, 64 lookups in flight at once")
    func concurrent() async throws {
        let hub = Hub(name: "conformance-ares-concurrent")
        defer { hub.shutdown() }
        // big.evergreen.test's answer is truncated over UDP and c-ares asks again
        // over TCP; with the rest of the suite keeping two cores and dnsmasq
        // busy (the race and load tests), 64 lookups at once can take that past
        // resolv.conf's 1 s timeout, and more so under a sanitizer
        // (EVG_TEST_SLOWDOWN). Every case is answered, so a longer timeout
        // changes no result, only how long a loaded machine may take.
        var options = ResolverOptions()
        options.timeout = .seconds(5 * testSlowdown)
        let resolver = try makeResolver(kind: .ares, options: options, hub: hub)
        #expect(resolver is AresResolver)
        let cases = ConformanceFixture.cases, system = ConformanceFixture.system
        // Well under what dnsmasq's socket buffer holds: a dropped query would cost a timeout.
        let lanes = 64
        let outcomes = try await hub.run {
            try await withThrowingTaskGroup(of: [(Int, ConformanceOutcome)].self) { group in
                for lane in 0..<lanes {
                    group.addTask {
                        var mine: [(Int, ConformanceOutcome)] = []
                        for index in stride(from: lane, to: cases.count, by: lanes) {
                            mine.append((index, await cases[index].call.run(on: resolver)))
                        }
                        return mine
                    }
                }
                var all = [ConformanceOutcome?](repeating: nil, count: cases.count)
                for try await part in group { for (index, outcome) in part { all[index] = outcome } }
                return all.map { $0! }
            }
        }
        await resolver.close()
        let different = cases.indices.filter { !AresConformance.matches(cases[$0].call, system[$0], outcomes[$0]) }
        #expect(different.isEmpty, "\(different.prefix(10).map { "\(cases[$0]): system \(system[$0]), ares \(outcomes[$0])" })")
    }
}
