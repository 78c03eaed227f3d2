import Sockets
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("Sending and receiving", .timeLimit(.minutes(2)))
struct SendReceiveTests {
    @Test func echoRoundTripOverTCP() async throws {
        let reply = try await onHub("echo") { _ in
            let (client, server) = try await tcpPair()
            defer { client.close(); server.close() }
            try await client.sendAll("hello")
            let got = try await server.recv(100)
            try await server.sendAll(got)
            return try await client.recv(100)
        }
        #expect(reply == Array("hello".utf8))
    }

    /// gevent test__socket: sendall of a large buffer, here 10 MB both ways
    /// at once, each direction checked byte for byte.
    @Test func sendAllTenMegabytesBothWaysAtOnce() async throws {
        let size = 10 * 1024 * 1024
        let (fromClient, fromServer) = try await onHub("sendall-10mb") { _ in
            let (client, server) = try await tcpPair()
            let c = HubBound(client), s = HubBound(server)
            async let clientSends: Void = c.value.sendAll(pattern(size, seed: 1))
            async let serverSends: Void = s.value.sendAll(pattern(size, seed: 2))
            async let clientGets = receiveAll(try c.value, limit: size)
            async let serverGets = receiveAll(try s.value, limit: size)
            try await clientSends
            try await serverSends
            let result = (try await serverGets, try await clientGets)
            client.close()
            server.close()
            return result
        }
        #expect(fromClient.count == size)
        #expect(fromServer.count == size)
        #expect(fromClient == pattern(size, seed: 1))
        #expect(fromServer == pattern(size, seed: 2))
    }

    @Test func emptySendAllReturnsAtOnceWithAnyTimeout() async throws {
        try await onHub("empty-sendall") { hub in
            let (client, server) = try await tcpPair()
            defer { client.close(); server.close() }
            try await fillSendBuffer(client)
            // The buffer is full: anything non-empty would have to wait.
            for timeout: Duration? in [nil, .zero, .seconds(10)] {
                try client.setTimeout(timeout)
                try await client.sendAll([UInt8]())
            }
            #expect(try await hub.statistics().pendingWaits == 0)
        }
    }

    @Test func sendAllWithZeroTimeoutStillMakesOneAttempt() async throws {
        let got = try await onHub("sendall-nonblocking") { _ in
            let (client, server) = try await tcpPair()
            defer { client.close(); server.close() }
            try client.setTimeout(.zero)
            try await client.sendAll("hi\n")
            return try await server.recv(10)
        }
        #expect(got == Array("hi\n".utf8))
    }

    @Test func sendAllTimeoutIsOneDeadlineForTheWholeCall() async throws {
        try await onHub("sendall-timeout") { _ in
            let (client, server) = try await tcpPair()
            defer { client.close(); server.close() }
            try client.setTimeout(.milliseconds(100))
            let clock = ContinuousClock()
            let start = clock.now
            let error = await #expect(throws: TimeoutError.self) {
                try await client.sendAll([UInt8](repeating: 7, count: 64 * 1024 * 1024))
            }
            let took = start.duration(to: clock.now)
            #expect(error.map { "\($0)" } == "timed out")
            #expect(took >= .milliseconds(100))
            // A hang guard only: the suite shares two cores (maybe under a
            // sanitizer), so wall time says little about the deadline here.
            #expect(took < .seconds(30))
        }
    }

    @Test func sendWithFullBufferTimesOutOrGivesEAGAIN() async throws {
        try await onHub("send-full") { _ in
            let (client, server) = try await tcpPair()
            defer { client.close(); server.close() }
            // The peer's window can still open just after the buffer fills
            // (receive autotuning, a late ACK on a loaded machine): fill
            // again until the probe send itself finds no room.
            var refusal: (any Error)?
            for _ in 0..<20 where refusal == nil {
                try await fillSendBuffer(client)
                try client.setTimeout(.zero)
                do { _ = try await client.send([1, 2, 3]) } catch { refusal = error }
            }
            #expect((refusal as? SystemError)?.code == EAGAIN, "\(String(describing: refusal))")
            var timedOut: (any Error)?
            for _ in 0..<20 where timedOut == nil {
                try await fillSendBuffer(client)
                try client.setTimeout(.milliseconds(30))
                do { _ = try await client.send([1, 2, 3]) } catch { timedOut = error }
            }
            #expect(timedOut is TimeoutError, "\(String(describing: timedOut))")
        }
    }

    @Test func recvIntoAReusedBuffer() async throws {
        let (count, bytes) = try await onHub("recv-into") { _ in
            let (client, server) = try await tcpPair()
            defer { client.close(); server.close() }
            try await client.sendAll([9, 8, 7, 6, 5])
            var buffer = [UInt8](repeating: 0, count: 3)
            let count = try await server.recv(into: &buffer)
            return (count, buffer)
        }
        #expect(count == 3)
        #expect(bytes == [9, 8, 7])
    }

    @Test func recvReturnsEmptyAtEndOfStream() async throws {
        let got = try await onHub("eof") { _ in
            let (client, server) = try await tcpPair()
            defer { server.close() }
            try await client.sendAll("bye")
            client.close()
            return try await receiveAll(server)
        }
        #expect(got == Array("bye".utf8))
    }

    @Test func sendToAClosedPeerThrowsEPIPEInsteadOfKillingTheProcess() async throws {
        try await onHub("sigpipe") { _ in
            let (client, server) = try await tcpPair()
            defer { client.close() }
            server.close()
            // The first send may still go out; the RST then makes later sends fail.
            var failure: SystemError?
            for _ in 0..<100 {
                do {
                    try await client.sendAll(pattern(65536))
                } catch let error as SystemError {
                    failure = error
                    break
                }
            }
            #expect(failure?.code == EPIPE || failure?.code == ECONNRESET)
        }
    }

    @Test(arguments: [AddressFamily.inet, .inet6])
    func udpSendtoAndRecvfrom(family: AddressFamily) async throws {
        let (bytes, from, expected) = try await onHub("udp") { _ in
            let loopback: SocketAddress = family == .inet6 ? .inet6(host: "::1", port: 0) : .inet(host: "127.0.0.1", port: 0)
            let receiver = try Socket(family: family, type: .datagram)
            let sender = try Socket(family: family, type: .datagram)
            defer { receiver.close(); sender.close() }
            try receiver.bind(to: loopback)
            try sender.bind(to: loopback)
            let sent = try await sender.sendto(Array("datagram".utf8), address: try receiver.localAddress())
            #expect(sent == 8)
            let (bytes, from) = try await receiver.recvfrom(100)
            return (bytes, from, try sender.localAddress())
        }
        #expect(bytes == Array("datagram".utf8))
        #expect(from == expected)
    }

    @Test func udpRecvfromIntoReportsTheCountAndSender() async throws {
        let (count, address, expected) = try await onHub("udp-into") { hub in
            let receiver = try Socket(family: .inet, type: .datagram)
            let sender = try Socket(family: .inet, type: .datagram)
            defer { receiver.close(); sender.close() }
            try receiver.bind(to: .inet(host: "127.0.0.1", port: 0))
            try sender.bind(to: .inet(host: "127.0.0.1", port: 0))
            let target = try receiver.localAddress()
            let shared = HubBound(receiver)
            let reading = hub.spawn { () async throws -> (Int, SocketAddress?) in
                var buffer = [UInt8](repeating: 0, count: 16)
                return try await shared.value.recvfrom(into: &buffer)
            }
            try await waitForPendingWaits(hub, atLeast: 1)
            _ = try await sender.sendto([1, 2, 3, 4], address: target)
            let (count, address) = try await reading.value
            return (count, address, try sender.localAddress())
        }
        #expect(count == 4)
        #expect(address == expected)
    }

    @Test func connectedUDPUsesSendAndRecv() async throws {
        let got = try await onHub("udp-connected") { _ in
            let a = try Socket(family: .inet, type: .datagram)
            let b = try Socket(family: .inet, type: .datagram)
            defer { a.close(); b.close() }
            try a.bind(to: .inet(host: "127.0.0.1", port: 0))
            try b.bind(to: .inet(host: "127.0.0.1", port: 0))
            try await a.connect(to: try b.localAddress())
            _ = try await a.send([42])
            return try await b.recv(10)
        }
        #expect(got == [42])
    }
}
