import Sockets
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("Timeouts and connecting", .timeLimit(.minutes(1)))
struct TimeoutAndConnectTests {
    @Test func recvTimesOutAfterTheSocketTimeout() async throws {
        try await onHub("recv-timeout") { _ in
            let (client, server) = try await tcpPair()
            defer { client.close(); server.close() }
            try client.setTimeout(.milliseconds(50))
            let clock = ContinuousClock()
            let start = clock.now
            let error = await #expect(throws: TimeoutError.self) { _ = try await client.recv(1024) }
            #expect(error.map { "\($0)" } == "timed out")
            let took = start.duration(to: clock.now)
            #expect(took >= .milliseconds(50))
            #expect(took < .seconds(10), "took \(took)")  // a hang guard: the peer never sends
        }
    }

    @Test func aZeroTimeoutNeverWaits() async throws {
        try await onHub("zero-timeout") { hub in
            let (client, server) = try await tcpPair()
            defer { client.close(); server.close() }
            try client.setTimeout(.zero)
            let error = await #expect(throws: SystemError.self) { _ = try await client.recv(10) }
            #expect(error?.code == EAGAIN)
            #expect(try await hub.statistics().pendingWaits == 0)
        }
    }

    @Test func acceptTimesOut() async throws {
        try await onHub("accept-timeout") { _ in
            let server = try loopbackServer()
            defer { server.close() }
            try server.setTimeout(.milliseconds(30))
            await #expect(throws: TimeoutError.self) { _ = try await server.accept() }
        }
    }

    @Test func connectTimesOutAsOneDeadline() async throws {
        try await onHub("connect-timeout") { _ in
            let full = try await FullListener()
            defer { full.close() }
            let client = try Socket()
            defer { client.close() }
            try client.setTimeout(.milliseconds(100))
            let clock = ContinuousClock()
            let start = clock.now
            await #expect(throws: TimeoutError.self) { try await client.connect(to: full.address) }
            #expect(start.duration(to: clock.now) < .seconds(10))  // a hang guard: the listener never accepts
        }
    }

    @Test func connectExGivesEAGAINOnTimeoutAndTheErrnoOnRefusal() async throws {
        try await onHub("connect-ex") { _ in
            let full = try await FullListener()
            defer { full.close() }
            let hanging = try Socket()
            defer { hanging.close() }
            try hanging.setTimeout(.milliseconds(50))
            #expect(try await hanging.connectEx(to: full.address) == EAGAIN)

            let refusing = try RefusingPort()
            defer { refusing.close() }
            let refused = try Socket()
            defer { refused.close() }
            #expect(try await refused.connectEx(to: refusing.inet) == ECONNREFUSED)

            let fine = try Socket()
            defer { fine.close() }
            let server = try loopbackServer()
            defer { server.close() }
            #expect(try await fine.connectEx(to: try server.localAddress()) == 0)
        }
    }

    @Test func connectRefusedThrowsECONNREFUSED() async throws {
        try await onHub("refused") { _ in
            let refusing = try RefusingPort()
            defer { refusing.close() }
            let client = try Socket()
            defer { client.close() }
            let error = await #expect(throws: SystemError.self) { try await client.connect(to: refusing.inet) }
            #expect(error?.code == ECONNREFUSED)
            #expect(error?.message == "Connection refused")
        }
    }

    @Test func connectWithZeroTimeoutOnlyStartsTheConnect() async throws {
        try await onHub("connect-nonblocking") { _ in
            let full = try await FullListener()
            defer { full.close() }
            let client = try Socket()
            defer { client.close() }
            try client.setTimeout(.zero)
            let error = await #expect(throws: SystemError.self) { try await client.connect(to: full.address) }
            #expect(error?.code == EINPROGRESS)
        }
    }

    @Test func connectByLiteralNeedsNoResolver() async throws {
        try await onHub("connect-literal") { _ in
            let server = try loopbackServer()
            defer { server.close() }
            let client = try Socket()
            defer { client.close() }
            try await client.connect(host: "127.0.0.1", port: Int(try server.localAddress().port))
            #expect(try client.remoteAddress() == server.localAddress())
        }
    }

    @Test func connectByNameUsesTheGivenResolverAndFamily() async throws {
        let resolver = FakeResolver(v6: .init(addresses: ["::1"]), v4: .init(addresses: ["127.0.0.1"]))
        try await onHub("connect-name") { _ in
            let server = try loopbackServer()
            defer { server.close() }
            let client = try Socket(family: .inet)
            defer { client.close() }
            try await client.connect(host: "fake.test", port: Int(try server.localAddress().port), resolver: resolver)
            #expect(try client.remoteAddress() == server.localAddress())
        }
        #expect(resolver.lookups == [.inet])
    }

    @Test func anIPv6ScopeIDIsKept() throws {
        let address = try SocketAddress(numericHost: "fe80::1%1", port: 80)
        #expect(address == .inet6(host: "fe80::1", port: 80, flowInfo: 0, scopeID: 1))
    }

    @Test func badArgumentsAreClearErrors() async throws {
        try await onHub("bad-arguments") { _ in
            let socket = try Socket(family: .inet)
            defer { socket.close() }
            let port = await #expect(throws: InvalidArgument.self) { try await socket.connect(host: "127.0.0.1", port: 70000) }
            #expect(port?.message.contains("70000") == true)
            let family = await #expect(throws: InvalidArgument.self) { try await socket.connect(to: .inet6(host: "::1", port: 1)) }
            #expect(family?.message.contains("AF_INET6") == true)
            #expect(throws: InvalidArgument.self) { try socket.bind(to: .inet(host: "localhost", port: 0)) }
            await #expect(throws: InvalidArgument.self) { _ = try await socket.recv(-1) }
            #expect(throws: InvalidArgument.self) { try socket.listen(backlog: -1) }
            #expect(throws: InvalidArgument.self) { try socket.setTimeout(.seconds(-1)) }
            #expect(throws: InvalidArgument.self) { try Socket.setDefaultTimeout(.milliseconds(-5)) }
            #expect(throws: InvalidArgument.self) { _ = try socket.makeReader(maxLineLength: 0) }
            #expect(throws: InvalidArgument.self) {
                _ = try createServer(address: .inet(host: "127.0.0.1", port: 0), dualStack: true)
            }
        }
    }

    @Test func theDefaultTimeoutAppliesToNewSockets() async throws {
        try await onHub("default-timeout") { _ in
            #expect(Socket.defaultTimeout == nil)
            try Socket.setDefaultTimeout(.seconds(600))
            defer { try? Socket.setDefaultTimeout(nil) }
            let socket = try Socket()
            defer { socket.close() }
            #expect(socket.timeout == .seconds(600))
            let copy = try socket.dup()
            defer { copy.close() }
            try socket.setTimeout(.milliseconds(5))
            #expect(try socket.dup().timeout == .milliseconds(5))
        }
    }
}
