@testable import Resolvers
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Every resolver call on every backend (block, thread, ares at the DNS
/// world's 127.0.0.1:53) against the corpus in `Fixtures/bad-input/`: a
/// thrown error of the documented kind with a clear message, or the
/// documented result; never a crash, a hang, or a lookup, waiter or
/// watcher left behind.
@Suite("Bad input: resolvers", .enabled(if: insideDNSWorld, "resolves names: run inside scripts/dnsworld"),
       .timeLimit(.minutes(2)))
struct ResolverBadInputTests {
    @Test(arguments: badInputBackends)
    func badHostNames(_ backend: String) async throws {
        var tally = BadInputTally()
        try await withBadInputBackend(backend) { resolver, hub in
            for bad in BadHosts.corpus.cases {
                let host = bad.host
                let calls: [(String, @Sendable () async throws -> String)] = [
                    ("getaddrinfo", { "\(try await resolver.getaddrinfo(host: host, port: 80, family: .unspecified, type: .stream, proto: .any, flags: []))" }),
                    ("gethostbyname", { try await resolver.gethostbyname(host) }),
                    ("gethostbynameEx", { "\(try await resolver.gethostbynameEx(host))" }),
                    ("gethostbyaddr", { "\(try await resolver.gethostbyaddr(host))" }),
                ]
                for (call, body) in calls {
                    let outcome = await badInputOutcome { try await hub.run { try await body() } }
                    expectBadInput(outcome, bad.rule, call: call, label: "\(backend) \(call)(\(bad.id))")
                    tally.add(call)
                }
            }
        }
        tally.report("host names, \(backend)")
    }

    @Test(arguments: badInputBackends)
    func badPortsFamiliesTypesProtocolsAndFlags(_ backend: String) async throws {
        var tally = BadInputTally()
        let numbers = BadNumbers.corpus
        try await withBadInputBackend(backend) { resolver, hub in
            for host in ["127.0.0.1", "one.evergreen.test"] {
                for bad in BadPorts.corpus.cases {
                    let outcome = await badInputOutcome { try await hub.run { try await resolver.getaddrinfo(host: host, port: bad.port) } }
                    expectBadInput(outcome, bad.rule, call: "getaddrinfo", label: "\(backend) getaddrinfo(\(host), port \(bad.id))")
                    tally.add("getaddrinfo port")
                }
                let groups: [(String, [BadNumbers.Case], @Sendable (BadNumbers.Case) async throws -> [AddressInfo])] = [
                    ("family", numbers.families, { try await resolver.getaddrinfo(host: host, port: 80, family: AddressFamily(rawValue: $0.value)) }),
                    ("type", numbers.types, { try await resolver.getaddrinfo(host: host, port: 80, type: SocketType(rawValue: $0.value)) }),
                    ("protocol", numbers.protocols, { bad in
                        try await resolver.getaddrinfo(host: host, port: 80, type: SocketType(rawValue: bad.type ?? 0),
                                                       proto: IPProtocol(rawValue: bad.value))
                    }),
                    ("flags", numbers.addressInfoFlags, { try await resolver.getaddrinfo(host: host, port: 80, flags: AddressInfoFlags(rawValue: $0.value)) }),
                ]
                for (what, cases, call) in groups {
                    for bad in cases {
                        let outcome = await badInputOutcome { try await hub.run { try await call(bad) } }
                        expectBadInput(outcome, bad.rule, call: "getaddrinfo", label: "\(backend) getaddrinfo(\(host), \(what) \(bad.id))")
                        tally.add("getaddrinfo \(what)")
                    }
                }
            }
            for bad in numbers.nameInfoFlags {
                let outcome = await badInputOutcome {
                    try await hub.run { try await resolver.getnameinfo(.inet(host: "127.0.0.1", port: 80), flags: NameInfoFlags(rawValue: bad.value)) }
                }
                expectBadInput(outcome, bad.rule, call: "getnameinfo", label: "\(backend) getnameinfo(flags \(bad.id))")
                tally.add("getnameinfo flags")
            }
            for bad in BadAddresses.corpus.socketAddresses where bad.applies(to: "getnameinfo") {
                for flags in [NameInfoFlags(), [.numericHost, .numericService]] {
                    let outcome = await badInputOutcome { try await hub.run { try await resolver.getnameinfo(bad.address, flags: flags) } }
                    expectBadInput(outcome, bad.rule, call: "getnameinfo", label: "\(backend) getnameinfo(\(bad.id), \(flags))")
                    tally.add("getnameinfo address")
                }
            }
        }
        tally.report("ports, numbers and addresses, \(backend)")
    }
}

/// Text parsed without any lookup: numeric hosts and nameservers.
@Suite("Bad input: address and nameserver text")
struct AddressTextBadInputTests {
    @Test(arguments: BadAddresses.corpus.numericHosts)
    func numericHostTextIsRefused(_ bad: BadAddresses.NumericHost) {
        do {
            let address = try SocketAddress(numericHost: bad.text, port: 80)
            Issue.record("SocketAddress(numericHost: \(bad.text.debugDescription)) gave \(address); expected \(bad.rule.errors ?? [])")
        } catch {
            expectClearError(error, types: bad.rule.errors ?? [], message: bad.rule.message, label: "SocketAddress(numericHost: \(bad.id))")
        }
        #expect(!SocketAddress.isNumericHost(bad.text), "isNumericHost(\(bad.text.debugDescription))")
    }

    @Test(arguments: BadNameservers.corpus.cases)
    func nameserverTextIsRefusedNamingIt(_ bad: BadNameservers.Case) {
        do {
            let server = try AresNameserver(parsing: bad.text)
            if bad.accepted == nil {
                Issue.record("AresNameserver(parsing: \(bad.text.debugDescription)) gave \(server); expected an error")
            }
        } catch {
            if let accepted = bad.accepted { Issue.record("\(bad.id): threw \(error); documented as accepted (\(accepted))") }
            expectClearError(error, types: ["InvalidArgument"], message: nil, label: "AresNameserver(parsing: \(bad.id))")
            // As bytes: a combining mark in the text would join the quote's character.
            #expect("\(error)".utf8.starts(with: "bad nameserver '".utf8), "\(bad.id): \(error)")
        }
    }
}

/// A fresh hub and a resolver of `backend` (ares asks only 127.0.0.1:53)
/// for `body`; afterwards nothing may be in flight on either.
func withBadInputBackend(_ backend: String, _ body: (any Resolver, Hub) async throws -> Void,
                         sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let hub = Hub(name: "bad-\(backend)", threadPoolSize: 2)
    defer { hub.shutdown() }
    let resolver: any Resolver
    switch backend {
    case "block": resolver = BlockingResolver()
    case "thread": resolver = ThreadResolver(threads: 4)
    default:
        var options = AresOptions()
        options.nameservers = [try AresNameserver(parsing: "127.0.0.1:53")]
        resolver = try AresResolver(hub: hub, options: options)
    }
    try await body(resolver, hub)
    let statistics = try await hub.statistics()
    #expect(statistics.pendingWaits == 0 && statistics.activeWatchers == 0, "\(backend): \(statistics)", sourceLocation: sourceLocation)
    if let ares = resolver as? AresResolver {
        let left = try await ares.statistics()
        #expect(left == AresStatistics(lookupsInFlight: 0, sockets: 0, timerArmed: false), "ares: \(left)", sourceLocation: sourceLocation)
    }
    if let thread = resolver as? ThreadResolver {
        #expect(thread.pool.runningCount == 0 && thread.pool.queuedCount == 0, "thread pool busy", sourceLocation: sourceLocation)
    }
    await resolver.close()
}
