import EvergreenTestSupport
import Sockets
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Runs `body` on a fresh hub named `name` (so its statistics count only
/// this test's waits) and shuts the hub down afterwards.
func onHub<T: Sendable>(_ name: String, _ body: @escaping @Sendable (Hub) async throws -> T) async throws -> T {
    let hub = Hub(name: name)
    defer { hub.shutdown() }
    return try await hub.run { try await body(hub) }
}

/// Suspends until `count` tasks of `hub` are suspended in hub waits: the
/// event-based way to know another task really is blocked in recv, accept,
/// a full send... Fails the test (instead of hanging) after 30 seconds.
func waitForPendingWaits(_ hub: Hub, atLeast count: Int, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    if try !(await poll(for: .seconds(30), until: { try await hub.statistics().pendingWaits >= count })) {
        Issue.record("never saw \(count) pending waits", sourceLocation: sourceLocation)
        throw TestFailure("no pending waits")
    }
}

/// Waits until `condition` holds, yielding in between; fails after 30 s.
func eventually(_ what: String, sourceLocation: SourceLocation = #_sourceLocation, _ condition: () throws -> Bool) async throws {
    if try !(await poll(for: .seconds(30), until: condition)) {
        Issue.record("never happened: \(what)", sourceLocation: sourceLocation)
        throw TestFailure(what)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A listening TCP socket on a free loopback port.
func loopbackServer(_ family: AddressFamily = .inet, backlog: Int = 16) throws -> Socket {
    let address: SocketAddress = family == .inet6 ? .inet6(host: "::1", port: 0) : .inet(host: "127.0.0.1", port: 0)
    return try createServer(address: address, backlog: backlog)
}

/// A loopback port that refuses connections, on 127.0.0.1 and ::1 alike,
/// for as long as this is open: a dual-stack socket bound to [::]:port that
/// never listens. Held, the port cannot be taken by a test running in
/// parallel, neither by a listener nor as a client's own port; a port
/// found by closing a listener can be, and then a connect meant to be
/// refused succeeds (CI saw it).
final class RefusingPort {
    let socket: Socket
    let port: Int

    init() throws {
        socket = try Socket(family: .inet6, type: .stream)
        do {
            try socket.setOption(.ipv6Only, false)
            try socket.bind(to: .inet6(host: "::", port: 0))
            port = Int(try socket.localAddress().port)
        } catch {
            socket.close()
            throw error
        }
    }

    /// The port on 127.0.0.1.
    var inet: SocketAddress { .inet(host: "127.0.0.1", port: UInt16(port)) }

    func close() { socket.close() }
}

/// A connected pair of TCP sockets over loopback: (client, server side).
func tcpPair(_ family: AddressFamily = .inet) async throws -> (Socket, Socket) {
    let server = try loopbackServer(family)
    defer { server.close() }
    let client = try Socket(family: family, type: .stream)
    try await client.connect(to: try server.localAddress())
    let (accepted, _) = try await server.accept()
    return (client, accepted)
}

/// `count` bytes of a pattern that shows reordering and loss.
func pattern(_ count: Int, seed: UInt8 = 0) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: count)
    bytes.withUnsafeMutableBufferPointer { buffer in
        for index in buffer.indices { buffer[index] = UInt8(truncatingIfNeeded: index &* 7 &+ index >> 11) &+ seed }
    }
    return bytes
}

/// Receives until end of stream or `limit` bytes.
func receiveAll(_ socket: Socket, limit: Int = .max) async throws -> [UInt8] {
    var received: [UInt8] = []
    while received.count < limit {
        let chunk = try await socket.recv(65536)
        if chunk.isEmpty { break }
        received += chunk
    }
    return received
}

/// Fills the socket's send buffer (and the peer's receive buffer) until a
/// zero-timeout send would block; returns how many bytes went out.
@discardableResult
func fillSendBuffer(_ socket: Socket) async throws -> Int {
    let saved = socket.timeout
    try socket.setTimeout(.zero)
    defer { try? socket.setTimeout(saved) }
    let chunk = [UInt8](repeating: 0x55, count: 65536)
    var total = 0
    while true {
        do {
            total += try await socket.send(chunk)
        } catch let error as SystemError where error.code == EAGAIN {
            return total
        }
    }
}

/// Whether the descriptor is open (a cheap `fcntl`).
func isOpen(_ fd: Int32) -> Bool { fcntl(fd, F_GETFD) != -1 }

/// Whether the tests run inside `scripts/dnsworld` (the test namespace).
var inDNSWorld: Bool { getenv("DNSWORLD").map { String(cString: $0) } == "1" }

/// A resolver with fixed answers per family, each after an optional delay
/// (on the hub's timer), recording the lookups it was asked for.
final class FakeResolver: Resolver, @unchecked Sendable {
    struct Answer {
        var addresses: [String] = []
        var error: (any Error)?
        var delay: Duration = .zero
    }

    let name = "fake"
    let v6: Answer
    let v4: Answer
    private let log = Mutex<[AddressFamily]>([])

    init(v6: Answer, v4: Answer) {
        self.v6 = v6
        self.v4 = v4
    }

    var lookups: [AddressFamily] { log.withLock { $0 } }

    func getaddrinfo(host: String?, port: ServicePort?, family: AddressFamily, type: SocketType,
                     proto: IPProtocol, flags: AddressInfoFlags) async throws -> [AddressInfo] {
        log.withLock { $0.append(family) }
        let answers: [(AddressFamily, Answer)] = family == .unspecified ? [(.inet6, v6), (.inet, v4)]
            : [(family, family == .inet6 ? v6 : v4)]
        var results: [AddressInfo] = []
        for (answerFamily, answer) in answers {
            if answer.delay > .zero { try await (Hub.current ?? Hub.default).sleep(for: answer.delay) }
            if let error = answer.error { throw error }
            let port = try port?.numericValue() ?? 0
            for host in answer.addresses {
                results.append(AddressInfo(family: answerFamily, type: .stream, proto: .tcp,
                                           address: try SocketAddress(numericHost: host, port: port)))
            }
        }
        return results
    }

    func gethostbyname(_ host: String) async throws -> String { throw AddressInfoError(code: AddressInfoError.noName) }
    func gethostbynameEx(_ host: String) async throws -> HostEntry { throw AddressInfoError(code: AddressInfoError.noName) }
    func gethostbyaddr(_ address: String) async throws -> HostEntry { throw AddressInfoError(code: AddressInfoError.noName) }
    func getnameinfo(_ address: SocketAddress, flags: NameInfoFlags) async throws -> (host: String, service: String) {
        throw AddressInfoError(code: AddressInfoError.noName)
    }
    func close() async {}
}

/// A listener whose accept queue is full, so that a further connect to it
/// hangs (Linux drops the SYN): a loopback-only way to make connects time out.
struct FullListener {
    let listener: Socket
    let fillers: [Socket]
    let address: SocketAddress

    init(family: AddressFamily = .inet, port: UInt16 = 0) async throws {
        let address: SocketAddress = family == .inet6 ? .inet6(host: "::1", port: port) : .inet(host: "127.0.0.1", port: port)
        listener = try createServer(address: address, backlog: 0)
        self.address = try listener.localAddress()
        // With backlog 0 the queue takes one connection; the next SYNs are dropped.
        let filler = try Socket(family: family, type: .stream)
        try filler.setTimeout(.seconds(5))
        try await filler.connect(to: self.address)
        fillers = [filler]
    }

    func close() {
        listener.close()
        for filler in fillers { filler.close() }
    }
}
