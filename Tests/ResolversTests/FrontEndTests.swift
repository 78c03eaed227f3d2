import Testing
@testable import Resolvers
#if canImport(Glibc)
import Glibc
#endif

/// The shared front end: argument errors, special names, IDNA, and answers
/// for literals without any lookup. Nothing here resolves a name, so these
/// run anywhere.
@Suite("Shared front end")
struct FrontEndTests {
    static let backends: [@Sendable () -> any Resolver] = [{ BlockingResolver() }, { ThreadResolver(threads: 2) }]

    @Test("bad ports, families and NUL bytes are InvalidArgument with a clear message", arguments: 0..<2)
    func badArguments(backend: Int) async throws {
        let resolver = Self.backends[backend]()
        let cases: [(ServicePort?, AddressFamily, String, String)] = [
            (.number(-1), .inet, "1.2.3.4", "port must be 0-65535, got -1"),
            (.number(65536), .inet, "1.2.3.4", "port must be 0-65535, got 65536"),
            (.service("70000"), .inet, "1.2.3.4", "port must be 0-65535, got 70000"),
            (80, AddressFamily(rawValue: 255), "1.2.3.4", "unsupported address family 255"),
            (80, .unix, "localhost", "unsupported address family 1"),
            (80, .inet, "a\0b", "must not contain a NUL byte"),
            (.service("ht\0tp"), .inet, "1.2.3.4", "must not contain a NUL byte"),
        ]
        for (port, family, host, message) in cases {
            let error = await #expect(throws: InvalidArgument.self) {
                try await resolver.getaddrinfo(host: host, port: port, family: family)
            }
            #expect(error?.message.contains(message) == true, "\(String(describing: error)) lacks \(message)")
        }
        await #expect(throws: InvalidArgument.self) { try await resolver.gethostbyname("x\0y") }
        await #expect(throws: InvalidArgument.self) { try await resolver.getnameinfo(.unix(path: "/tmp/x"), flags: []) }
        await #expect(throws: InvalidArgument.self) {
            try await resolver.getnameinfo(.inet(host: "localhost", port: 80), flags: [])
        }
        await #expect(throws: InvalidArgument.self) {
            try await resolver.getnameinfo(.inet6(host: "::1", port: 80, flowInfo: 0x100000), flags: [])
        }
        await resolver.close()
    }

    @Test("literals, numeric ports and special names never reach the pool")
    func literalsWithoutLookup() async throws {
        let hub = Hub(name: "front-end")
        defer { hub.shutdown() }
        let resolver = ThreadResolver(threads: 2)
        let results = try await hub.run {
            (
                try await resolver.getaddrinfo(host: "1.2.3.4", port: 80),
                try await resolver.getaddrinfo(host: "::1", port: "443", family: .inet6, type: .stream, flags: [.canonicalName]),
                try await resolver.getaddrinfo(host: "<broadcast>", port: 9, family: .inet, type: .datagram),
                try await resolver.getaddrinfo(host: "", port: 8080, family: .inet, type: .stream),
                try await resolver.getaddrinfo(host: "", port: nil, family: .inet6, type: .stream),
                try await resolver.gethostbyname("<broadcast>"),
                try await resolver.gethostbyname(""),
                try await resolver.gethostbynameEx("10.0.0.1"),
                try await resolver.getnameinfo(.inet6(host: "::1", port: 22), flags: [.numericHost, .numericService])
            )
        }
        #expect(results.0 == [
            AddressInfo(family: .inet, type: .stream, proto: .tcp, address: .inet(host: "1.2.3.4", port: 80)),
            AddressInfo(family: .inet, type: .datagram, proto: .udp, address: .inet(host: "1.2.3.4", port: 80)),
            AddressInfo(family: .inet, type: .raw, proto: .any, address: .inet(host: "1.2.3.4", port: 80)),
        ])
        #expect(results.1 == [AddressInfo(family: .inet6, type: .stream, proto: .tcp, canonicalName: "::1",
                                          address: .inet6(host: "::1", port: 443))])
        #expect(results.2 == [AddressInfo(family: .inet, type: .datagram, proto: .udp,
                                          address: .inet(host: "255.255.255.255", port: 9))])
        #expect(results.3 == [AddressInfo(family: .inet, type: .stream, proto: .tcp, address: .inet(host: "0.0.0.0", port: 8080))])
        #expect(results.4 == [AddressInfo(family: .inet6, type: .stream, proto: .tcp, address: .inet6(host: "::", port: 0))])
        #expect(results.5 == "255.255.255.255")
        #expect(results.6 == "0.0.0.0")
        #expect(results.7 == HostEntry(name: "10.0.0.1", aliases: [], addresses: ["10.0.0.1"]))
        #expect(results.8.host == "::1" && results.8.service == "22")
        // No lookup needed a thread: the pool never started one.
        #expect(resolver.pool.threadCount == 0)
        await resolver.close()
    }

    @Test("literal answers equal the C library's for every type, protocol, family and flag")
    func literalAnswersMatchTheSystem() async throws {
        var checked = 0
        var mismatches: [String] = []
        let hosts = ["127.0.0.1", "::1", "1.2.3.4", "::ffff:10.1.2.3", "2001:db8::1", "0.0.0.0", "::", "0:0::0:1"]
        let ports: [ServicePort?] = [nil, 0, 80, "8080"]
        let types: [Int32] = [0, 1, 2, 3, 5, 6, 10]
        let protos: [Int32] = [0, 6, 17, 33, 132, 136, 255]
        let flagSets: [Int32] = [0, AI_CANONNAME, AI_PASSIVE, AI_NUMERICHOST, AI_NUMERICSERV, AI_V4MAPPED,
                                 AI_V4MAPPED | AI_CANONNAME]
        for host in hosts {
            for port in ports {
                for family in [AF_UNSPEC, AF_INET, AF_INET6] {
                    for type in types {
                        for proto in protos {
                            for flags in flagSets {
                                let call = ConformanceCall.getaddrinfo(
                                    host: host, port: port, family: AddressFamily(rawValue: family), type: SocketType(rawValue: type),
                                    proto: IPProtocol(rawValue: proto), flags: AddressInfoFlags(rawValue: flags))
                                let plan = try? LookupFrontEnd.addressPlan(
                                    host: host, port: port, family: AddressFamily(rawValue: family), type: SocketType(rawValue: type),
                                    proto: IPProtocol(rawValue: proto), flags: AddressInfoFlags(rawValue: flags))
                                if case .lookup? = plan { mismatches.append("\(call): planned a lookup") }
                                let system = SystemReference.run(call)
                                let ours = await call.run(on: BlockingResolver())
                                if ours != system { mismatches.append("\(call): system \(system), ours \(ours)") }
                                checked += 1
                            }
                        }
                    }
                }
            }
        }
        #expect(checked == 8 * 4 * 3 * 7 * 7 * 7)
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(checked) differ:\n\(mismatches.prefix(20).joined(separator: "\n"))")
    }

    @Test("IDNA as glibc's AI_IDN: UTS #46 non-transitional, NFC, errors as EAI_IDN_ENCODE")
    func idna() throws {
        #expect(try IDNA.asciiName("bücher.evergreen.test") == "xn--bcher-kva.evergreen.test")
        #expect(try IDNA.asciiName("BÜCHER.example") == "xn--bcher-kva.example")
        #expect(try IDNA.asciiName("президент.рф") == "xn--d1abbgf6aiiy.xn--p1ai")
        #expect(try IDNA.asciiName("faß.de") == "xn--fa-hia.de")  // non-transitional keeps ß
        #expect(try IDNA.asciiName("bu\u{308}cher.de") == "xn--bcher-kva.de")  // NFC first
        #expect(try IDNA.asciiName("Plain-ASCII.Example") == "Plain-ASCII.Example")  // ASCII is left alone
        #expect(try IDNA.asciiName("１.２.３.４") == "1.2.3.4")  // full-width digits and dots map
        for bad in ["a\\ü.de", "a\u{200D}b.de", "\u{0301}x.de"] {
            #expect(throws: AddressInfoError(code: AddressInfoError.idnEncode)) { try IDNA.asciiName(bad) }
        }
    }

    @Test("IDNA accepts and refuses the same names as glibc's AI_IDN")
    func idnaAgreesWithGlibc() throws {
        // AI_NUMERICHOST: glibc encodes the name, then fails without a lookup.
        // EAI_NONAME means it encoded the name, EAI_IDN_ENCODE that it could not.
        _ = setlocale(LC_CTYPE, "C.UTF-8")
        let names = ["bücher.de", "faß.de", "президент.рф", "a\\ü.de", "a\u{200D}b.de", "\u{0301}x.de", "xn--ü.de",
                     "ab--ü.de", "-ü.de", "ü-.de", "Ⅻ.de", "\u{FFFD}.de", String(repeating: "ü", count: 70) + ".de"]
        for name in names {
            let glibc: Int32
            do {
                _ = try SystemCalls.addressInfo(host: name, service: nil, family: AF_INET, type: 0, proto: 0,
                                                flags: SystemReference.aiIDN | AI_NUMERICHOST)
                glibc = 0
            } catch let error as AddressInfoError {
                glibc = error.code
            }
            let ours: Int32
            do {
                let ascii = try IDNA.asciiName(name)
                ours = SocketAddress.isNumericHost(ascii) ? 0 : AddressInfoError.noName
            } catch let error as AddressInfoError {
                ours = error.code
            }
            #expect(ours == glibc, "\(name.debugDescription): glibc \(glibc), ours \(ours)")
        }
        // Where the encoding is a literal, glibc reports it as the canonical name.
        let canonical = try SystemCalls.addressInfo(host: "１.２.３.４", service: nil, family: AF_INET, type: 1, proto: 0,
                                                    flags: SystemReference.aiIDN | AI_NUMERICHOST | AI_CANONNAME)
        #expect(canonical.first?.canonicalName == (try IDNA.asciiName("１.２.３.４")))
    }

    @Test("errors carry the C library's codes and messages")
    func errorValues() {
        #expect(AddressInfoError(code: AddressInfoError.noName).message == "Name or service not known")
        #expect(AddressInfoError(code: AddressInfoError.noName).description == "[Errno -2] Name or service not known")
        #expect(AddressInfoError(code: AddressInfoError.addressFamily).message == "Address family for hostname not supported")
        #expect(AddressInfoError(code: AddressInfoError.noData).message == "No address associated with hostname")
        #expect(AddressInfoError(code: AddressInfoError.idnEncode).message == "Parameter string not correctly encoded")
        #expect(HostError(code: HostError.hostNotFound).message == "Unknown host")
        #expect(HostError(code: HostError.noData).message == "No address associated with name")
        #expect(HostError(code: HostError.tryAgain).description == "[Errno 2] Host name lookup failure")
    }
}
