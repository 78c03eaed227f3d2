import Testing
import Synchronization
import Sockets
#if canImport(Glibc)
import Glibc
#endif

/// A resolver that records each call and answers from a table (no lookups).
private final class RecordingResolver: Resolver {
    let name = "recording"
    let calls = Mutex<[String]>([])
    let entries: [String: HostEntry]

    init(entries: [String: HostEntry] = [:]) { self.entries = entries }

    private func record(_ call: String) { calls.withLock { $0.append(call) } }

    func getaddrinfo(host: String?, port: ServicePort?, family: AddressFamily, type: SocketType, proto: IPProtocol,
                     flags: AddressInfoFlags) async throws -> [AddressInfo] {
        record("getaddrinfo \(host ?? "nil") \(port.map { "\($0)" } ?? "nil") \(family) \(type) \(flags)")
        return [AddressInfo(family: .inet, type: .stream, proto: .tcp, address: .inet(host: "192.0.2.99", port: 1))]
    }

    func gethostbyname(_ host: String) async throws -> String {
        record("gethostbyname \(host)")
        return "192.0.2.99"
    }

    func gethostbynameEx(_ host: String) async throws -> HostEntry {
        record("gethostbynameEx \(host)")
        return HostEntry(name: host, aliases: [], addresses: ["192.0.2.99"])
    }

    func gethostbyaddr(_ address: String) async throws -> HostEntry {
        record("gethostbyaddr \(address)")
        guard let entry = entries[address] else { throw HostError(code: HostError.hostNotFound) }
        return entry
    }

    func getnameinfo(_ address: SocketAddress, flags: NameInfoFlags) async throws -> (host: String, service: String) {
        record("getnameinfo \(address) \(flags)")
        return ("recorded.example", "http")
    }

    func close() async {}
}

/// This machine's hostname.
private func machineName() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    _ = Glibc.gethostname(&buffer, 255)
    return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

@Suite("DNS functions")
struct DNSFunctionTests {
    @Test("each function goes through the current hub's resolver")
    func throughCurrentHub() async throws {
        let hub = Hub(name: "dns-functions")
        defer { hub.shutdown() }
        let recorder = RecordingResolver()
        hub.setResolver(recorder)
        let results = try await hub.run {
            (
                try await getaddrinfo("example.test", 80, family: .inet, type: .stream),
                try await gethostbyname("example.test"),
                try await gethostbynameEx("example.test"),
                try await getnameinfo(.inet(host: "192.0.2.1", port: 80), flags: .numericService)
            )
        }
        #expect(results.0.first?.address == .inet(host: "192.0.2.99", port: 1))
        #expect(results.1 == "192.0.2.99")
        #expect(results.2.addresses == ["192.0.2.99"])
        #expect(results.3.host == "recorded.example")
        #expect(recorder.calls.withLock { $0 } == [
            "getaddrinfo example.test 80 AF_INET SOCK_STREAM 0",
            "gethostbyname example.test",
            "gethostbynameEx example.test",
            "getnameinfo 192.0.2.1:80 NI_NUMERICSERV",
        ])
    }

    @Test("off every hub they use the default hub's resolver")
    func offHub() async throws {
        #expect(Hub.current == nil)
        let recorder = RecordingResolver()
        let previous = Hub.default.setResolver(recorder)
        defer { if let previous { Hub.default.setResolver(previous) } }
        _ = try await gethostbyname("off-hub.test")
        #expect(recorder.calls.withLock { $0 } == ["gethostbyname off-hub.test"])
    }

    @Test("getfqdn mirrors Python's socket.getfqdn")
    func fqdn() async throws {
        let hub = Hub(name: "fqdn")
        defer { hub.shutdown() }
        let here = machineName()
        let recorder = RecordingResolver(entries: [
            "short": HostEntry(name: "short", aliases: ["short.example.test", "other.example.test"], addresses: ["192.0.2.5"]),
            "plain": HostEntry(name: "plain", aliases: ["alias"], addresses: ["192.0.2.6"]),
            "192.0.2.7": HostEntry(name: "seven.example.test", aliases: [], addresses: ["192.0.2.7"]),
            here: HostEntry(name: "\(here).example.test", aliases: [], addresses: ["127.0.1.1"]),
        ])
        hub.setResolver(recorder)
        let answers = try await hub.run {
            [
                try await getfqdn("short"),          // first alias with a dot
                try await getfqdn("  plain\n"),      // no dotted name: the official name; whitespace ignored
                try await getfqdn("192.0.2.7"),      // the official name itself has a dot
                try await getfqdn("unknown.test"),   // lookup fails: the name as given
                try await getfqdn(),                 // this host
                try await getfqdn("0.0.0.0"),
                try await getfqdn("::"),
            ]
        }
        #expect(answers == ["short.example.test", "plain", "seven.example.test", "unknown.test",
                            "\(here).example.test", "\(here).example.test", "\(here).example.test"])
        #expect(recorder.calls.withLock { $0 }.filter { $0.hasPrefix("gethostbyaddr") }
            == ["short", "plain", "192.0.2.7", "unknown.test", here, here, here].map { "gethostbyaddr \($0)" })
    }

    @Test("real lookups through the hub's default resolver",
          .enabled(if: getenv("DNSWORLD").map { String(cString: $0) == "1" } ?? false, "resolves names: run inside scripts/dnsworld"))
    func realLookups() async throws {
        let hub = Hub(name: "dns-real")
        defer { hub.shutdown() }
        let here = machineName()
        let results = try await hub.run {
            (
                try await getaddrinfo("one.evergreen.test", 80, family: .inet, type: .stream),
                try await gethostbyname("alias.evergreen.test"),
                try await gethostbynameEx("alias.evergreen.test"),
                try await gethostbyaddr("192.0.2.10"),
                try await getnameinfo(.inet(host: "192.0.2.30", port: 53), flags: .datagram),
                try await getfqdn("one"),
                try await getfqdn("hostsonly"),
                try await getfqdn(),
                try await getaddrinfo("bücher.evergreen.test", nil, family: .inet, type: .stream)
            )
        }
        #expect(results.0 == [AddressInfo(family: .inet, type: .stream, proto: .tcp, address: .inet(host: "192.0.2.10", port: 80))])
        #expect(results.1 == "192.0.2.30")
        #expect(results.2 == HostEntry(name: "dual.evergreen.test", aliases: ["alias.evergreen.test", "alias-mid.evergreen.test"],
                                       addresses: ["192.0.2.30"]))
        #expect(results.3 == HostEntry(name: "one.evergreen.test", aliases: [], addresses: ["192.0.2.10"]))
        #expect(results.4.host == "dual.evergreen.test" && results.4.service == "domain")
        #expect(results.5 == "one.evergreen.test")  // found through the search list
        #expect(results.6 == "hostsonly.evergreen.test")
        #expect(results.7 == here)  // dnsworld maps the hostname to 127.0.1.1, no dotted alias
        #expect(results.8.map(\.address.host) == ["192.0.2.50"])
        await #expect(throws: AddressInfoError(code: AddressInfoError.noName)) {
            try await hub.run { try await getaddrinfo("nonexistent.evergreen.test", 80) }
        }
    }
}
