import Sockets
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("Socket options and createServer", .timeLimit(.minutes(1)))
struct OptionsAndServerTests {
    @Test func booleanOptionsRoundTrip() async throws {
        try await onHub("bool-options") { _ in
            let tcp = try Socket(family: .inet6, type: .stream)
            defer { tcp.close() }
            for option: SocketOption<Bool> in [.reuseAddress, .reusePort, .keepAlive, .noDelay, .ipv6Only] {
                try tcp.setOption(option, true)
                #expect(try tcp.option(option) == true, "\(option)")
                try tcp.setOption(option, false)
                #expect(try tcp.option(option) == false, "\(option)")
            }
            let udp = try Socket(family: .inet, type: .datagram)
            defer { udp.close() }
            try udp.setOption(.broadcast, true)
            #expect(try udp.option(.broadcast))
        }
    }

    @Test func bufferSizesLingerAndRawAccess() async throws {
        try await onHub("other-options") { _ in
            let socket = try Socket()
            defer { socket.close() }
            try socket.setOption(.receiveBufferSize, 65536)
            #expect(try socket.option(.receiveBufferSize) >= 65536)
            try socket.setOption(.sendBufferSize, 32768)
            #expect(try socket.option(.sendBufferSize) >= 32768)
            #expect(try socket.option(.linger) == .off)
            try socket.setOption(.linger, .on(seconds: 3))
            #expect(try socket.option(.linger) == .on(seconds: 3))
            try socket.setRawOption(level: SOL_SOCKET, name: SO_KEEPALIVE, value: 1)
            #expect(try socket.rawOption(level: SOL_SOCKET, name: SO_KEEPALIVE) == 1)
            #expect(try socket.option(SocketOption<Int>(level: SOL_SOCKET, name: SO_TYPE)) == Int(SocketType.stream.rawValue))
            #expect(try socket.rawOption(level: SOL_SOCKET, name: SO_TYPE, length: 4).count == 4)
            #expect(throws: InvalidArgument.self) { try socket.setOption(.linger, .on(seconds: -1)) }
            #expect(throws: InvalidArgument.self) { try socket.setOption(.receiveBufferSize, Int(Int32.max) + 1) }
            let unix = try Socket(family: .unix, type: .stream)
            defer { unix.close() }
            #expect(throws: SystemError.self) { try unix.setOption(.noDelay, true) }
        }
    }

    @Test func createServerBindsListensAndReportsTheAddressOnError() async throws {
        try await onHub("create-server") { _ in
            let server = try createServer(address: .inet(host: "127.0.0.1", port: 0), backlog: 8)
            defer { server.close() }
            #expect(try server.option(.reuseAddress))
            let address = try server.localAddress()
            #expect(address.port != 0)
            let error = #expect(throws: SystemError.self) { _ = try createServer(address: address) }
            #expect(error?.code == EADDRINUSE)
            #expect(error?.message.contains("127.0.0.1") == true)
            let shared = try createServer(address: .inet(host: "127.0.0.1", port: 0), reusePort: true)
            defer { shared.close() }
            let second = try createServer(address: try shared.localAddress(), reusePort: true)
            second.close()
        }
    }

    @Test func aDualStackServerAcceptsIPv4Peers() async throws {
        let peer = try await onHub("dual-stack") { _ in
            let server = try createServer(address: .inet6(host: "::", port: 0), dualStack: true)
            defer { server.close() }
            #expect(try server.option(.ipv6Only) == false)
            let client = try Socket(family: .inet)
            defer { client.close() }
            try await client.connect(to: .inet(host: "127.0.0.1", port: try server.localAddress().port))
            let (connection, peer) = try await server.accept()
            connection.close()
            return peer
        }
        #expect(peer.host == "::ffff:127.0.0.1")
    }

    @Test func anIPv6OnlyServerIsTheDefault() async throws {
        try await onHub("v6-only") { _ in
            let server = try createServer(address: .inet6(host: "::1", port: 0))
            defer { server.close() }
            #expect(try server.option(.ipv6Only))
        }
    }

    @Test func acceptedSocketsAreNonBlockingCloseOnExecAndOnTheSameHub() async throws {
        try await onHub("accepted") { hub in
            let (client, server) = try await tcpPair()
            defer { client.close(); server.close() }
            #expect(server.hub === hub)
            #expect(fcntl(server.fileDescriptor, F_GETFL) & O_NONBLOCK != 0)
            #expect(fcntl(server.fileDescriptor, F_GETFD) & FD_CLOEXEC != 0)
            #expect(fcntl(client.fileDescriptor, F_GETFD) & FD_CLOEXEC != 0)
        }
    }
}
