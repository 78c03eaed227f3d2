import Sockets
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("Buffered reader and writer", .timeLimit(.minutes(1)))
struct ReaderWriterTests {
    /// The peer sends a line in pieces; the reader waits between them.
    @Test func readLineAssemblesPartialLines() async throws {
        let lines = try await onHub("partial-lines") { hub in
            let (a, b) = try socketpair()
            defer { a.close(); b.close() }
            let reader = try b.makeReader()
            defer { reader.close() }
            let shared = HubBound(reader, hub: hub)
            let reading = hub.spawn { () async throws -> [String?] in
                let reader = try shared.value
                return [try await reader.readLine(), try await reader.readLine(), try await reader.readLine(),
                        try await reader.readLine()]
            }
            for piece in ["hel", "lo\r\nwor", "ld\nlast without newline"] {
                try await waitForPendingWaits(hub, atLeast: 1)
                try await a.sendAll(piece)
            }
            try await waitForPendingWaits(hub, atLeast: 1)
            try a.shutdown(.write)
            return try await reading.value
        }
        #expect(lines == ["hello", "world", "last without newline", nil])
    }

    @Test func readLineBytesCanKeepTheTerminator() async throws {
        let lines = try await onHub("keep-newline") { _ in
            let (a, b) = try socketpair()
            defer { a.close(); b.close() }
            let reader = try b.makeReader()
            defer { reader.close() }
            try await a.sendAll("a\r\nb\n")
            return [try await reader.readLineBytes(keepingTerminator: true), try await reader.readLineBytes(keepingTerminator: true)]
        }
        #expect(lines == [Array("a\r\n".utf8), Array("b\n".utf8)])
    }

    @Test func aLineOverTheLimitIsAnErrorNotUnboundedMemory() async throws {
        try await onHub("long-line") { hub in
            let (a, b) = try socketpair()
            defer { a.close(); b.close() }
            let reader = try b.makeReader(maxLineLength: 10, chunkSize: 4)
            defer { reader.close() }
            try await a.sendAll("0123456789\n")
            #expect(try await reader.readLine() == "0123456789")
            let shared = HubBound(reader, hub: hub)
            // Never a newline: the reader must give up after 10 bytes.
            let reading = hub.spawn { try await shared.value.readLine() }
            try await a.sendAll("abcdefghijklmnop")
            let error = await #expect(throws: LineTooLongError.self) { _ = try await reading.value }
            #expect(error?.limit == 10)
            #expect(reader.bufferedCount <= 16)
        }
    }

    @Test func readExactlyAndReadToEnd() async throws {
        let (first, rest, incomplete) = try await onHub("exactly") { _ in
            let (a, b) = try socketpair()
            defer { a.close(); b.close() }
            let reader = try b.makeReader(chunkSize: 3)
            defer { reader.close() }
            try await a.sendAll("abcdefgh")
            let first = try await reader.read(exactly: 5)
            try await a.sendAll("ij")
            try a.shutdown(.write)
            let rest = try await reader.readToEnd()
            let incomplete = await #expect(throws: IncompleteReadError.self) { _ = try await reader.read(exactly: 1) }
            return (first, rest, incomplete)
        }
        #expect(first == Array("abcde".utf8))
        #expect(rest == Array("fghij".utf8))
        #expect(incomplete?.partial == [])
    }

    @Test func readExactlyReportsWhatArrivedBeforeTheEnd() async throws {
        let error = try await onHub("incomplete") { _ in
            let (a, b) = try socketpair()
            defer { b.close() }
            let reader = try b.makeReader()
            defer { reader.close() }
            try await a.sendAll("abc")
            a.close()
            return await #expect(throws: IncompleteReadError.self) { _ = try await reader.read(exactly: 10) }
        }
        #expect(error?.expected == 10)
        #expect(error?.partial == Array("abc".utf8))
    }

    @Test func linesAndChunksAsAsyncSequences() async throws {
        let (lines, bytes) = try await onHub("sequences") { _ in
            let (a, b) = try socketpair()
            defer { a.close(); b.close() }
            let lineReader = try b.makeReader()
            try await a.sendAll("one\ntwo\nthree\n")
            var lines: [String] = []
            for try await line in lineReader.lines {
                lines.append(line)
                if lines.count == 3 { break }
            }
            lineReader.close()
            let chunkReader = try b.makeReader(chunkSize: 4)
            defer { chunkReader.close() }
            try await a.sendAll("0123456789")
            try a.shutdown(.write)
            var bytes: [UInt8] = []
            for try await chunk in chunkReader.chunks {
                #expect(!chunk.isEmpty && chunk.count <= 4)
                bytes += chunk
            }
            return (lines, bytes)
        }
        #expect(lines == ["one", "two", "three"])
        #expect(bytes == Array("0123456789".utf8))
    }

    /// gevent test__socket test_makefile: closing the socket does not close the file.
    @Test func anOpenReaderKeepsTheDescriptorAfterClose() async throws {
        try await onHub("reader-keeps-fd") { _ in
            let (a, b) = try socketpair()
            defer { a.close() }
            let reader = try b.makeReader()
            b.close()
            #expect(b.fileDescriptor == -1)
            await #expect(throws: SystemError.self) { _ = try await b.recv(1) }
            try await a.sendAll("hello\n")
            #expect(try await reader.readLine() == "hello")
            // The descriptor is really closed only now: the peer sees end of file.
            reader.close()
            #expect(try await a.recv(1).isEmpty)
            await #expect(throws: SystemError.self) { _ = try await reader.readLine() }
        }
    }

    @Test func readerTimesOutWithTheSocketTimeout() async throws {
        try await onHub("reader-timeout") { _ in
            let (a, b) = try socketpair()
            defer { a.close(); b.close() }
            try b.setTimeout(.milliseconds(30))
            let reader = try b.makeReader()
            defer { reader.close() }
            await #expect(throws: TimeoutError.self) { _ = try await reader.readLine() }
        }
    }

    @Test func aReaderHoldsTheReadSide() async throws {
        try await onHub("reader-read-side") { hub in
            let (a, b) = try socketpair()
            defer { a.close(); b.close() }
            let reader = try b.makeReader()
            defer { reader.close() }
            let shared = HubBound(reader, hub: hub)
            let reading = hub.spawn { try await shared.value.readLine() }
            try await waitForPendingWaits(hub, atLeast: 1)
            await #expect(throws: ConcurrentUseError.self) { _ = try await b.recv(1) }
            try await a.sendAll("done\n")
            #expect(try await reading.value == "done")
        }
    }

    @Test func writerBuffersUntilFlushAndCloseFlushes() async throws {
        try await onHub("writer") { _ in
            let (a, b) = try socketpair()
            defer { a.close(); b.close() }
            let writer = try a.makeWriter(capacity: 16)
            try await writer.write("abc")
            try await writer.write([0x64, 0x65])
            #expect(writer.bufferedCount == 5)
            try b.setTimeout(.zero)
            await #expect(throws: SystemError.self) { _ = try await b.recv(10) }
            try await writer.flush()
            #expect(try await b.recv(10) == Array("abcde".utf8))
            try await writer.write(pattern(40))  // larger than the buffer: goes out at once
            try await writer.write("tail")
            a.close()
            try await writer.close()
            try b.setTimeout(nil)
            #expect(try await receiveAll(b) == pattern(40) + Array("tail".utf8))
        }
    }
}
