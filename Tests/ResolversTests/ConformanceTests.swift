import Testing
@testable import Resolvers

/// The system's outcomes for the fixture's cases, computed once per test run.
enum ConformanceFixture {
    static let cases: [ConformanceCase] = {
        do { return try ConformanceCases.load() } catch { fatalError("cannot load the conformance cases: \(error)") }
    }()
    static let system: [ConformanceOutcome] = ConformanceHarness.systemOutcomes(cases)
    static let exact: ConformanceComparison = {
        do { return .exact(rotating: try ConformanceCases.loadRotating()) } catch { fatalError("cannot load the conformance cases: \(error)") }
    }()
}

/// Every conformance case through each system backend, compared exactly with
/// the C library called directly.
@Suite("Conformance with the C library", .enabled(if: insideDNSWorld, "resolves names: run inside scripts/dnsworld"))
struct ConformanceTests {
    @Test("the case list covers what the issue asks for")
    func caseList() throws {
        let cases = ConformanceFixture.cases
        #expect(cases.count > 10_000)
        let calls = Set(cases.map { "\($0.call)".prefix { $0 != "(" } })
        #expect(calls == ["getaddrinfo", "gethostbyname", "gethostbynameEx", "gethostbyaddr", "getnameinfo"])
        let hosts = Set(cases.compactMap { testCase -> String? in
            if case .getaddrinfo(let host, _, _, _, _, _) = testCase.call { return host }
            return nil
        })
        for host in ["localhost", "ip6-localhost", ConformanceCases.hostName(), "127.0.0.1", "::1", "1.2.3.4", "1.2.3.400",
                     "<broadcast>", "", "nonexistentxxxyyy", "xxxxxxxxxxxx", "bücher.evergreen.test",
                     "one.evergreen.test", "alias.evergreen.test", "big.evergreen.test"] {
            #expect(hosts.contains(host), "no getaddrinfo case for \(host.debugDescription)")
        }
        // The system must answer some of them successfully, or the comparison proves little.
        let answered = ConformanceFixture.system.filter { !$0.isError }.count
        #expect(answered > 1000, "only \(answered) cases answered by the system")
    }

    @Test("block: exactly the system's results and errors")
    func blocking() async throws {
        let hub = Hub(name: "conformance-block")
        defer { hub.shutdown() }
        let report = try await ConformanceHarness.run(ConformanceFixture.cases, expected: ConformanceFixture.system,
                                                      against: BlockingResolver(), comparison: ConformanceFixture.exact, on: hub)
        #expect(report.mismatches.isEmpty, "\(report)")
        testLog(String(report.description.split(separator: "\n").first ?? ""))
    }

    @Test("thread: exactly the system's results and errors")
    func threaded() async throws {
        let hub = Hub(name: "conformance-thread")
        defer { hub.shutdown() }
        let resolver = ThreadResolver(threads: 4)
        let report = try await ConformanceHarness.run(ConformanceFixture.cases, expected: ConformanceFixture.system,
                                                      against: resolver, comparison: ConformanceFixture.exact, on: hub)
        await resolver.close()
        #expect(report.mismatches.isEmpty, "\(report)")
        testLog(String(report.description.split(separator: "\n").first ?? ""))
    }

    @Test("the hub's default resolver conforms too, with lookups in flight together")
    func concurrentThreadLookups() async throws {
        let hub = Hub(name: "conformance-concurrent")
        defer { hub.shutdown() }
        // A slice with DNS answers, run 32 at a time through the hub's own resolver.
        let indexes = ConformanceFixture.cases.indices.filter {
            if case .getaddrinfo(let host?, _, _, _, _, _) = ConformanceFixture.cases[$0].call { return host.hasSuffix(".evergreen.test") }
            return false
        }
        let outcomes = try await hub.run {
            let resolver = Hub.current!.resolver
            return try await withThrowingTaskGroup(of: [(Int, ConformanceOutcome)].self) { group in
                for lane in 0..<32 {
                    group.addTask {
                        var mine: [(Int, ConformanceOutcome)] = []
                        for position in stride(from: lane, to: indexes.count, by: 32) {
                            let index = indexes[position]
                            mine.append((index, await ConformanceFixture.cases[index].call.run(on: resolver)))
                        }
                        return mine
                    }
                }
                var all: [(Int, ConformanceOutcome)] = []
                for try await part in group { all += part }
                return all
            }
        }
        #expect(outcomes.count == indexes.count)
        let different = outcomes.filter {
            !ConformanceHarness.judge(ConformanceFixture.cases[$0.0].call, expected: ConformanceFixture.system[$0.0], actual: $0.1,
                                      comparison: ConformanceFixture.exact).matches
        }
        #expect(different.isEmpty, "\(different.prefix(10).map { "\(ConformanceFixture.cases[$0.0]): system \(clip(ConformanceFixture.system[$0.0])), backend \(clip($0.1))" })")
    }
}
