import Sockets
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("Descriptors: detach, dup, fromfd, socketpair, Unix sockets", .timeLimit(.minutes(1)))
struct DescriptorTests {
    @Test func socketpairIsUnixStreamByDefault() async throws {
        let (family, type, got) = try await onHub("socketpair") { _ in
            let (a, b) = try socketpair()
            defer { a.close(); b.close() }
            try await a.sendAll("one")
            try await b.sendAll("two")
            let got = [try await b.recv(10), try await a.recv(10)]
            return (a.family, a.type, got)
        }
        #expect(family == .unix)
        #expect(type == .stream)
        #expect(got == [Array("one".utf8), Array("two".utf8)])
    }

    @Test func socketpairOfDatagrams() async throws {
        let got = try await onHub("socketpair-dgram") { _ in
            let (a, b) = try socketpair(type: .datagram)
            defer { a.close(); b.close() }
            _ = try await a.send([1, 2])
            _ = try await a.send([3])
            return [try await b.recv(10), try await b.recv(10)]
        }
        #expect(got == [[1, 2], [3]])
    }

    @Test func detachGivesUpTheDescriptorWithoutClosingIt() async throws {
        try await onHub("detach") { _ in
            let (a, b) = try socketpair()
            defer { b.close() }
            let fd = try a.detach()
            #expect(a.fileDescriptor == -1)
            #expect(isOpen(fd))
            await #expect(throws: SystemError.self) { _ = try await a.recv(1) }
            let adopted = try Socket(adopting: fd)
            defer { adopted.close() }
            #expect(adopted.family == .unix)
            #expect(adopted.type == .stream)
            try await adopted.sendAll("still here")
            #expect(try await b.recv(100) == Array("still here".utf8))
        }
    }

    @Test func dupSharesTheConnectionAndOutlivesTheOriginal() async throws {
        try await onHub("dup") { _ in
            let (a, b) = try socketpair()
            defer { b.close() }
            try a.setTimeout(.seconds(7))
            let copy = try a.dup()
            defer { copy.close() }
            #expect(copy.fileDescriptor != a.fileDescriptor)
            #expect(copy.timeout == .seconds(7))
            a.close()
            try await copy.sendAll("via copy")
            #expect(try await b.recv(100) == Array("via copy".utf8))
        }
    }

    @Test func fromDescriptorDuplicatesSoTheCallerKeepsItsDescriptor() async throws {
        try await onHub("fromfd") { _ in
            let (a, b) = try socketpair()
            defer { a.close(); b.close() }
            let copy = try Socket.fromDescriptor(a.fileDescriptor)
            #expect(copy.fileDescriptor != a.fileDescriptor)
            try await copy.sendAll("x")
            copy.close()
            #expect(isOpen(a.fileDescriptor))
            #expect(try await b.recv(1) == Array("x".utf8))
        }
    }

    @Test func adoptingSomethingThatIsNotASocketFails() async throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { _ = close(fds[0]); _ = close(fds[1]) }
        let readEnd = fds[0]
        try await onHub("adopt-pipe") { _ in
            let error = #expect(throws: SystemError.self) { _ = try Socket(adopting: readEnd) }
            #expect(error?.code == ENOTSOCK)
            #expect(throws: SystemError.self) { _ = try Socket(adopting: -1) }
        }
    }

    @Test func unixStreamSocketsOnAPath() async throws {
        let directory = try temporaryDirectory()
        defer { _ = rmdir(directory) }
        let path = directory + "/server.sock"
        defer { _ = unlink(path) }
        let (local, remote, reply) = try await onHub("unix-path") { hub in
            let server = try createServer(address: .unix(path: path))
            defer { server.close() }
            let sharedServer = HubBound(server)
            let echo = hub.spawn {
                let (connection, _) = try await sharedServer.value.accept()
                defer { connection.close() }
                try await connection.sendAll(try await connection.recv(100))
            }
            let client = try Socket(family: .unix, type: .stream)
            defer { client.close() }
            try await client.connect(to: .unix(path: path))
            try await client.sendAll("over a path")
            let reply = try await client.recv(100)
            try await echo.value
            return (try server.localAddress(), try client.remoteAddress(), reply)
        }
        #expect(local == .unix(path: path))
        #expect(remote == .unix(path: path))
        #expect(reply == Array("over a path".utf8))
    }

    @Test func unixDatagramsToAPath() async throws {
        let directory = try temporaryDirectory()
        defer { _ = rmdir(directory) }
        let path = directory + "/dgram.sock"
        defer { _ = unlink(path) }
        let got = try await onHub("unix-dgram") { _ in
            let receiver = try Socket(family: .unix, type: .datagram)
            let sender = try Socket(family: .unix, type: .datagram)
            defer { receiver.close(); sender.close() }
            try receiver.bind(to: .unix(path: path))
            _ = try await sender.sendto(Array("note".utf8), address: .unix(path: path))
            return try await receiver.recvfrom(100).bytes
        }
        #expect(got == Array("note".utf8))
    }

    @Test func descriptorsPassOverUnixSockets() async throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let (pipeRead, pipeWrite) = (fds[0], fds[1])
        defer { _ = close(pipeRead); _ = close(pipeWrite) }
        let message = try await onHub("pass-fds") { hub in
            let (a, b) = try socketpair()
            defer { a.close(); b.close() }
            let shared = HubBound(b)
            let receiving = hub.spawn { try await shared.value.recvmsg(100, maxDescriptors: 4) }
            try await waitForPendingWaits(hub, atLeast: 1)
            let sent = try await a.sendmsg(Array("fd".utf8), descriptors: [pipeWrite])
            #expect(sent == 2)
            return try await receiving.value
        }
        #expect(message.bytes == Array("fd".utf8))
        #expect(message.descriptors.count == 1)
        #expect(!message.flags.contains(.controlTruncated))
        guard let passed = message.descriptors.first else { return }
        defer { _ = close(passed) }
        #expect(passed != pipeWrite)
        #expect(fcntl(passed, F_GETFD) & FD_CLOEXEC != 0)
        var byte: UInt8 = 0x5A
        #expect(write(passed, &byte, 1) == 1)
        var readBack: UInt8 = 0
        #expect(read(pipeRead, &readBack, 1) == 1)
        #expect(readBack == 0x5A)
    }

    @Test func tooManyDescriptorsAreReportedAsTruncated() async throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { _ = close(fds[0]); _ = close(fds[1]) }
        let passing = fds
        let message = try await onHub("pass-too-many") { _ in
            let (a, b) = try socketpair()
            defer { a.close(); b.close() }
            _ = try await a.sendmsg([1], descriptors: passing)
            return try await b.recvmsg(10, maxDescriptors: 1)
        }
        for fd in message.descriptors { _ = close(fd) }
        #expect(message.descriptors.count == 1)
        #expect(message.flags.contains(.controlTruncated))
    }

    @Test func localAndRemoteAddresses() async throws {
        try await onHub("addresses") { _ in
            let (client, server) = try await tcpPair()
            defer { client.close(); server.close() }
            #expect(try client.localAddress() == server.remoteAddress())
            #expect(try client.remoteAddress() == server.localAddress())
            let lonely = try Socket()
            defer { lonely.close() }
            let error = #expect(throws: SystemError.self) { _ = try lonely.remoteAddress() }
            #expect(error?.code == ENOTCONN)
        }
    }

    func temporaryDirectory() throws -> String {
        var template = Array("/tmp/evergreen-sockets-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw SystemError.lastError() }
        return String(cString: made)
    }
}
