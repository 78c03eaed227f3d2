import Testing
@testable import Resolvers

/// Each hub owns one resolver: made lazily, replaceable, closed at shutdown;
/// and the factory by kind.
@Suite("Hub resolver and factory")
struct HubResolverTests {
    @Test("made on first use as a ThreadResolver, the same one afterwards")
    func lazyDefault() {
        let hub = Hub(name: "lazy")
        defer { hub.shutdown() }
        let first = hub.resolver
        #expect(first is ThreadResolver)
        #expect(first.name == "thread")
        let same = identical(first, hub.resolver)
        #expect(same)
        #expect((first as? ThreadResolver)?.threads == 16)
    }

    @Test("replaceable at run time; the previous one is handed back open")
    func replace() async throws {
        let hub = Hub(name: "replace")
        defer { hub.shutdown() }
        let original = hub.resolver
        let blocking = BlockingResolver()
        let previous = hub.setResolver(blocking)
        let handedBack = previous.map { identical($0, original) } ?? false
        let current = identical(hub.resolver, blocking)
        #expect(handedBack)
        #expect(current)
        #expect(try await hub.run { try await Hub.current!.resolver.gethostbyname("1.2.3.4") } == "1.2.3.4")
        // The replaced resolver still works for whoever holds it.
        #expect(try await original.gethostbyname("5.6.7.8") == "5.6.7.8")
    }

    @Test("closed when the hub shuts down")
    func closedAtShutdown() async throws {
        let hub = Hub(name: "shutdown")
        let resolver = hub.resolver
        let replaced = BlockingResolver()
        let other = Hub(name: "other")
        defer { other.shutdown() }
        other.setResolver(replaced)
        hub.shutdown()
        await #expect(throws: ResolverClosedError(resolver: "thread")) { try await resolver.gethostbyname("1.2.3.4") }
        // A resolver set after shutdown is closed at once.
        let late = BlockingResolver()
        hub.setResolver(late)
        await #expect(throws: ResolverClosedError(resolver: "block")) { try await late.gethostbyname("1.2.3.4") }
        // Other hubs' resolvers are untouched.
        #expect(try await replaced.gethostbyname("1.2.3.4") == "1.2.3.4")
    }

    @Test("makeResolver by kind")
    func factory() throws {
        #expect(try makeResolver(kind: .block) is BlockingResolver)
        var options = ResolverOptions()
        options.threads = 5
        let thread = try makeResolver(kind: .thread, options: options)
        #expect((thread as? ThreadResolver)?.threads == 5)
        #expect(ResolverKind.allCases.map(\.rawValue) == ["block", "thread", "ares"])
        #expect(ResolverKind.available.contains(.block) && ResolverKind.available.contains(.thread))
        if !ResolverKind.available.contains(.ares) {
            let error = #expect(throws: ResolverUnavailableError.self) { try makeResolver(kind: .ares) }
            #expect(error?.description.contains("AresResolver") == true)
            #expect(try makeResolver(preferring: [.ares, .block]) is BlockingResolver)
        }
        let unknown = #expect(throws: ResolverUnavailableError.self) { try makeResolver(kind: ResolverKind(rawValue: "dnspython")) }
        #expect(unknown?.description.contains("unknown name") == true)
        #expect(throws: InvalidArgument.self) { try makeResolver(preferring: []) }
    }
}

/// Whether two resolvers are the same object.
private func identical(_ a: any Resolver, _ b: any Resolver) -> Bool {
    ObjectIdentifier(a as AnyObject) == ObjectIdentifier(b as AnyObject)
}
