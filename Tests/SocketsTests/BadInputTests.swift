import Sockets
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The socket layer against the corpus in `Fixtures/bad-input/`: the DNS
/// free functions and connect/bind/createConnection by name (in the DNS
/// world), connect/bind/createServer with bad addresses, sockets made with
/// bad numbers or adopted from bad descriptors. Each is a thrown error with
/// a clear message, never a crash or a hang, and leaves no wait behind.
@Suite("Bad input: sockets and DNS functions", .timeLimit(.minutes(2)))
struct SocketBadInputTests {
    static let hosts = SocketBadInput.load("hosts.json", "cases")
    static let ports = SocketBadInput.load("ports.json", "cases").filter { $0.number != nil }
    static let addresses = SocketBadInput.load("addresses.json", "socketAddresses")
    static let descriptors = SocketBadInput.load("hub.json", "descriptors")
    static let numbers = ["socketFamilies", "socketTypes", "socketProtocols"].map { SocketBadInput.load("numbers.json", $0) }

    @Test(.enabled(if: inDNSWorld, "resolves names: run inside scripts/dnsworld"))
    func badHostNamesThroughTheDNSFunctionsAndSockets() async throws {
        let hub = Hub(name: "bad-sockets-dns")
        defer { hub.shutdown() }
        var checks = 0
        for bad in Self.hosts {
            let host = bad.hostText
            let resolverErrors = bad.errors ?? []
            let lookups: [(String, @Sendable () async throws -> Void)] = [
                ("getaddrinfo", { _ = try await getaddrinfo(host, 80) }),
                ("gethostbyname", { _ = try await gethostbyname(host) }),
                ("gethostbynameEx", { _ = try await gethostbynameEx(host) }),
                ("gethostbyaddr", { _ = try await gethostbyaddr(host) }),
            ]
            for (call, body) in lookups {
                let error = await socketOutcome { try await hub.run { try await body() } }!
                expectSocketBadInput(error, types: resolverErrors, message: bad.message, acceptable: bad.accepted?[call] != nil,
                                     label: "\(call)(\(bad.id))")
                checks += 1
            }
            // getfqdn never throws for a failed lookup: it must return, promptly.
            let fqdn = await socketOutcome { _ = try await hub.run { try await getfqdn(host) } }!
            #expect(fqdn == nil, "getfqdn(\(bad.id)): \(String(describing: fqdn))")
            // By name, the socket calls fail as the lookup does; where the
            // lookup gives an address, the socket layer may still refuse it.
            let resolves = bad.accepted?["getaddrinfo"] != nil
            let socketErrors = resolverErrors + (resolves ? ["SystemError", "CreateConnectionError"] : [])
            let sockets: [(String, @Sendable () async throws -> Void)] = [
                ("connect", {
                    let socket = try Socket(family: .inet, type: .stream)
                    defer { socket.close() }
                    try socket.setTimeout(.seconds(5))
                    try await socket.connect(host: host, port: 9)
                }),
                ("bind", {
                    let socket = try Socket(family: .inet, type: .stream)
                    defer { socket.close() }
                    try await socket.bind(host: host, port: 0)
                }),
                ("createConnection", { try await createConnection(host: host, port: 9, timeout: .seconds(5)).close() }),
            ]
            for (call, body) in sockets {
                let error = await socketOutcome { try await hub.run { try await body() } }!
                expectSocketBadInput(error, types: socketErrors, message: resolves ? nil : bad.message,
                                     acceptable: resolves || bad.accepted?[call] != nil, label: "\(call)(\(bad.id))")
                checks += 1
            }
        }
        try await expectQuiet(hub)
        print("bad input, host names through the DNS functions and sockets: \(Self.hosts.count) names, \(checks) checks")
    }

    @Test func badPortsForConnectBindAndCreateConnection() async throws {
        let hub = Hub(name: "bad-sockets-ports")
        defer { hub.shutdown() }
        for bad in Self.ports {
            let port = bad.number!
            let calls: [(String, @Sendable () async throws -> Void)] = [
                ("connect", {
                    let socket = try Socket()
                    defer { socket.close() }
                    try await socket.connect(host: "127.0.0.1", port: port)
                }),
                ("bind", {
                    let socket = try Socket()
                    defer { socket.close() }
                    try await socket.bind(host: "127.0.0.1", port: port)
                }),
                ("createConnection", { try await createConnection(host: "127.0.0.1", port: port).close() }),
            ]
            for (call, body) in calls {
                let error = await socketOutcome { try await hub.run { try await body() } }!
                expectSocketBadInput(error, types: bad.errors ?? [], message: bad.message, acceptable: false, label: "\(call)(port \(bad.id))")
            }
        }
        try await expectQuiet(hub)
    }

    @Test func badSocketAddressesForConnectBindAndCreateServer() async throws {
        let hub = Hub(name: "bad-sockets-addresses")
        defer { hub.shutdown() }
        for bad in Self.addresses {
            guard let address = bad.address else { continue }
            let calls: [(String, @Sendable () async throws -> Void)] = [
                ("connect", {
                    let socket = try Socket(family: address.family, type: .stream)
                    defer { socket.close() }
                    try await socket.connect(to: address)
                }),
                ("bind", {
                    let socket = try Socket(family: address.family, type: .stream)
                    defer { socket.close() }
                    try socket.bind(to: address)
                }),
                ("createServer", { try createServer(address: address).close() }),
            ]
            for (call, body) in calls where bad.applies(to: call == "createServer" ? "bind" : call) {
                let error = await socketOutcome { try await hub.run { try await body() } }!
                expectSocketBadInput(error, types: bad.errors ?? [], message: bad.message, acceptable: false, label: "\(call)(\(bad.id))")
                // A path cut short at a NUL must not be left behind by a bind that went through.
                if case .unix(let path) = address, let cut = path.split(separator: "\u{0}").first, cut.hasPrefix("/tmp/evergreen-") {
                    unlink(String(cut))
                }
            }
        }
        // A negative backlog and dual stack on IPv4 are refused before any system call.
        let refused: [(String, @Sendable () throws -> Void)] = [
            ("backlog -1", { try createServer(address: .inet(host: "127.0.0.1", port: 0), backlog: -1).close() }),
            ("dualStack IPv4", { try createServer(address: .inet(host: "127.0.0.1", port: 0), dualStack: true).close() }),
        ]
        for (label, body) in refused {
            let error = await socketOutcome { try await hub.run { try body() } }!
            expectSocketBadInput(error, types: ["InvalidArgument"], message: nil, acceptable: false, label: "createServer(\(label))")
        }
        try await expectQuiet(hub)
    }

    @Test func socketsMadeWithBadNumbers() async throws {
        let hub = Hub(name: "bad-sockets-numbers")
        defer { hub.shutdown() }
        let (families, types, protocols) = (Self.numbers[0], Self.numbers[1], Self.numbers[2])
        let cases = families.map { bad in (bad, { try Socket(family: AddressFamily(rawValue: bad.value!)).close() }) }
            + types.map { bad in (bad, { try Socket(family: .inet, type: SocketType(rawValue: bad.value!)).close() }) }
            + protocols.map { bad in (bad, { try Socket(family: .inet, type: .stream, proto: IPProtocol(rawValue: bad.value!)).close() }) }
            as [(SocketBadInput, @Sendable () throws -> Void)]
        for (bad, body) in cases {
            let error = await socketOutcome { try await hub.run { try body() } }!
            expectSocketBadInput(error, types: bad.errors ?? [], message: bad.message, acceptable: false, label: "Socket(\(bad.id))")
        }
    }

    @Test func socketsAdoptedFromBadDescriptors() async throws {
        let hub = Hub(name: "bad-sockets-fds")
        defer { hub.shutdown() }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw SystemError.lastError() }
        defer { _ = close(fds[0]); _ = close(fds[1]) }
        let pipeEnd = fds[0]
        var cases: [(String, Int32, Int32, String)] = try Self.descriptors.map { ($0.id, try descriptorNumber($0), EBADF, $0.message ?? "") }
        cases.append(("a pipe, not a socket", pipeEnd, ENOTSOCK, "Socket operation on non-socket"))
        for (id, fd, code, message) in cases {
            let calls: [(String, @Sendable () throws -> Void)] = [
                ("Socket(adopting:)", { _ = try Socket(adopting: fd) }),
                ("Socket.fromDescriptor", { _ = try Socket.fromDescriptor(fd) }),
            ]
            for (call, body) in calls {
                let error = await socketOutcome { try await hub.run { try body() } }!
                expectSocketBadInput(error, types: ["SystemError"], message: message, acceptable: false, label: "\(call)(\(id))")
                #expect((error as? SystemError)?.code == code, "\(call)(\(id)): \(String(describing: error))")
            }
        }
        // The pipe was not adopted: it is still open and still ours.
        #expect(fcntl(pipeEnd, F_GETFD) != -1)
        try await expectQuiet(hub)
    }

    private func expectQuiet(_ hub: Hub, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let statistics = try await hub.statistics()
        #expect(statistics.pendingWaits == 0 && statistics.activeWatchers == 0, "\(statistics)", sourceLocation: sourceLocation)
    }
}

/// A descriptor case's number; `make` cases are made here and never open.
func descriptorNumber(_ bad: SocketBadInput) throws -> Int32 {
    if let fd = bad.fd { return fd }
    var limit = rlimit()
    _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    let soft = Int32(clamping: UInt64(limit.rlim_cur))
    switch bad.make {
    case "beyond-limit": return soft
    case "never-opened":
        for fd in stride(from: min(soft - 1, 4_000), to: 3, by: -1) where fcntl(fd, F_GETFD) == -1 { return fd }
        throw TestFailure("no free descriptor number")
    default:  // closed: a pipe end copied to a number of its own, then closed
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw SystemError.lastError() }
        defer { _ = close(fds[0]); _ = close(fds[1]) }
        while true {
            let number = min(soft / 2, 6_000) + Int32(closedCounter.add(1, ordering: .relaxed).oldValue % 1_000)
            guard fcntl(number, F_GETFD) == -1 else { continue }
            guard dup2(fds[0], number) == number else { throw SystemError.lastError() }
            _ = close(number)
            return number
        }
    }
}

private let closedCounter = Atomic<Int>(0)
