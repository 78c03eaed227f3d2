import Sockets
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Peers that reset, half-close or stop reading (issue 7). What the other
/// suites already cover is not repeated: a send after the peer closed
/// (SendReceiveTests), a sendAll timeout against a peer that never reads
/// (SendReceiveTests), shutdown waking only its direction and cancelling a
/// blocked recv (CloseAndConcurrencyTests). Every test ends with no pending
/// wait on its hub and its descriptors really closed.
@Suite("Peer faults: reset, half-close, not reading", .timeLimit(.minutes(1)))
struct PeerFaultTests {
    @Test func aResetDuringABlockedRecvIsECONNRESET() async throws {
        try await onHub("rst-recv") { hub in
            let (client, server) = try await tcpPair()
            let identities = try [SocketIdentity(client), SocketIdentity(server)]
            let shared = HubBound(client)
            let reader = hub.spawn { await ending { try await shared.value.recv(100).count } }
            try await waitForPendingWaits(hub, atLeast: 1)
            try reset(server)
            guard case .systemError(let code, _) = try await reader.value else {
                Issue.record("recv did not fail with a system error")
                return
            }
            #expect(code == ECONNRESET)
            #expect(try await hub.statistics().pendingWaits == 0)
            client.close()
            for identity in identities { #expect(identity.isClosed, "\(identity)") }
        }
    }

    @Test func aResetDuringABlockedSendAllIsAThrownErrorNotSIGPIPE() async throws {
        try await onHub("rst-sendall") { hub in
            let (client, server) = try await tcpPair()
            let identities = try [SocketIdentity(client), SocketIdentity(server)]
            try await fillSendBuffer(client)
            let shared = HubBound(client)
            let writer = hub.spawn { await ending { try await shared.value.sendAll(pattern(1 << 20)); return 0 } }
            try await waitForPendingWaits(hub, atLeast: 1)
            try reset(server)
            let result = try await writer.value
            guard case .systemError(let code, _) = result else {
                Issue.record("sendAll ended with \(result), not a system error")
                return
            }
            #expect(code == ECONNRESET || code == EPIPE)
            // The socket stays usable for error reporting: later sends fail too (EPIPE), still no signal.
            let again = await ending { try await client.send([1]) }
            #expect(again == .systemError(EPIPE, String(cString: strerror(EPIPE))))
            #expect(try await hub.statistics().pendingWaits == 0)
            client.close()
            for identity in identities { #expect(identity.isClosed, "\(identity)") }
        }
    }

    /// The client shuts its write side: the server reads to end of stream
    /// and then still sends, and the client still receives.
    @Test(arguments: [false, true])
    func halfCloseEndsOneDirectionOnly(serverCloses: Bool) async throws {
        try await onHub("half-close") { hub in
            let (client, server) = try await tcpPair()
            let identities = try [SocketIdentity(client), SocketIdentity(server)]
            let (shutter, other) = serverCloses ? (server, client) : (client, server)
            try await shutter.sendAll("request")
            try shutter.shutdown(.write)
            #expect(try await receiveAll(other) == Array("request".utf8))
            #expect(try await other.recv(10).isEmpty)  // end of stream stays end of stream
            // The other direction still works, in both sizes.
            try await other.sendAll("reply")
            #expect(try await shutter.recv(100) == Array("reply".utf8))
            let big = pattern(3 << 20, seed: 9)
            let shared = HubBound(other)
            let sending = hub.spawn { try await shared.value.sendAll(big); try shared.value.shutdown(.write) }
            #expect(try await receiveAll(shutter) == big)
            try await sending.value
            // Writing on the shut side is EPIPE, thrown (MSG_NOSIGNAL), never a signal.
            let error = await #expect(throws: SystemError.self) { try await shutter.sendAll("more") }
            #expect(error?.code == EPIPE)
            #expect(try await hub.statistics().pendingWaits == 0)
            client.close()
            server.close()
            for identity in identities { #expect(identity.isClosed, "\(identity)") }
        }
    }

    /// A peer that stops reading: sendAll with a timeout throws TimeoutError
    /// (it does not say how much went out: neither does Python's sendall),
    /// and the bytes that did go out are all in order at the peer.
    @Test func aPeerThatStopsReadingTimesOutSendAllAndKeepsTheStreamIntact() async throws {
        try await onHub("stops-reading") { hub in
            let (client, server) = try await tcpPair()
            let identities = try [SocketIdentity(client), SocketIdentity(server)]
            let data = pattern(16 << 20, seed: 3)
            try client.setTimeout(.milliseconds(200))
            await #expect(throws: TimeoutError.self) { try await client.sendAll(data) }
            #expect(try await hub.statistics().pendingWaits == 0)
            client.close()
            let arrived = try await receiveAll(server)
            #expect(arrived.count > 0 && arrived.count < data.count)
            print("stops-reading: \(arrived.count) of \(data.count) bytes went out before the timeout")
            #expect(arrived[...] == data[..<arrived.count])
            server.close()
            for identity in identities { #expect(identity.isClosed, "\(identity)") }
        }
    }

    @Test func cancellingATaskBlockedInSendAllThrowsCancellationError() async throws {
        try await onHub("cancel-sendall") { hub in
            let (client, server) = try await tcpPair()
            let identities = try [SocketIdentity(client), SocketIdentity(server)]
            try await fillSendBuffer(client)
            let shared = HubBound(client)
            let writer = hub.spawn { await ending { try await shared.value.sendAll(pattern(8 << 20)); return 0 } }
            try await waitForPendingWaits(hub, atLeast: 1)
            writer.cancel()
            #expect(try await writer.value == .other("CancellationError()"))
            #expect(try await hub.statistics().pendingWaits == 0)
            // The write side is free again (no ConcurrentUseError) and the stream still flows.
            try client.setTimeout(.zero)
            let full = await #expect(throws: SystemError.self) { _ = try await client.send([1]) }
            #expect(full?.code == EAGAIN)
            try client.setTimeout(nil)
            let drained = HubBound(server)
            let reading = hub.spawn { try await receiveAll(drained.value).count }
            try await client.sendAll("tail")
            client.close()
            #expect(try await reading.value > 4)
            server.close()
            for identity in identities { #expect(identity.isClosed, "\(identity)") }
        }
    }

    @Test func cancellingSendAllWithATimeoutThrowsCancellationNotTimeout() async throws {
        try await onHub("cancel-sendall-timeout") { hub in
            let (client, server) = try await tcpPair()
            defer { client.close(); server.close() }
            try client.setTimeout(.seconds(30))
            try await fillSendBuffer(client)
            let shared = HubBound(client)
            let writer = hub.spawn { await ending { try await shared.value.sendAll(pattern(1 << 20)); return 0 } }
            try await waitForPendingWaits(hub, atLeast: 1)
            writer.cancel()
            #expect(try await writer.value == .other("CancellationError()"))
            #expect(try await hub.statistics().pendingWaits == 0)
        }
    }
}

/// Closes `socket` with SO_LINGER 0: the peer gets a RST instead of a FIN.
private func reset(_ socket: Socket) throws {
    try socket.setOption(.linger, .on(seconds: 0))
    socket.close()
}

/// A descriptor and the socket it referred to, to check later that it was
/// closed even if another test has reused the number since.
struct SocketIdentity: CustomStringConvertible {
    let fd: Int32
    let device: UInt64
    let inode: UInt64

    init(_ socket: Socket) throws {
        fd = socket.fileDescriptor
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SystemError.lastError() }
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
    }

    /// Whether `fd` no longer refers to this socket.
    var isClosed: Bool {
        var info = stat()
        guard fstat(fd, &info) == 0 else { return true }
        return UInt64(info.st_dev) != device || UInt64(info.st_ino) != inode
    }

    var description: String { "fd \(fd) (socket inode \(inode))" }
}
