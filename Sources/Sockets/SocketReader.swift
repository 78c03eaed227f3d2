/// Buffered reading from a socket, in place of Python's `makefile('rb')`:
/// lines, exact counts, everything to the end, and async sequences of lines
/// and of byte chunks.
///
/// An open reader keeps the socket's descriptor open after `socket.close()`
/// until the reader is closed too, as a gevent file object does. Reads wait
/// as the socket's receives do (its timeout applies to each wait) and hold
/// the socket's read side, so a concurrent `recv` gets `ConcurrentUseError`.
///
/// ```swift
/// let reader = try socket.makeReader()
/// for try await line in reader.lines { print(line) }
/// reader.close()
/// ```
public final class SocketReader {
    /// The socket read from.
    public let socket: Socket
    /// The longest line `readLine` accepts, in bytes without the line end;
    /// a longer one throws `LineTooLongError` instead of growing without bound.
    public let maxLineLength: Int
    /// How much one receive asks for.
    let chunkSize: Int
    /// Bytes received and not yet returned: `buffer[start...]`.
    private var buffer: [UInt8] = []
    private var start = 0
    /// How far `buffer[start...]` is known to hold no newline.
    private var scanned = 0
    private var reachedEnd = false
    private var isClosed = false

    init(socket: Socket, maxLineLength: Int, chunkSize: Int) {
        self.socket = socket
        self.maxLineLength = maxLineLength
        self.chunkSize = chunkSize
        socket.streamOpened()
    }

    deinit {
        guard !isClosed else { return }
        let socket = HubBound(socket)
        socket.hub.execute { try? socket.value.streamClosed() }
    }

    /// Closes the reader (not the socket); the descriptor closes now if the
    /// socket was closed before. Closing twice does nothing.
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        buffer = []
        start = 0
        if socket.hub.isCurrent {
            socket.streamClosed()
        } else {
            let socket = HubBound(socket)
            socket.hub.execute { try? socket.value.streamClosed() }
        }
    }

    /// Bytes received and not yet read.
    public var bufferedCount: Int { buffer.count - start }

    /// Receives one more chunk into the buffer; false at end of stream.
    private func fill() async throws -> Bool {
        guard !isClosed else { throw badDescriptor() }
        if reachedEnd { return false }
        let chunk = try await socket.receiveBytes(chunkSize, flags: 0, owner: .stream)
        if chunk.isEmpty {
            reachedEnd = true
            return false
        }
        if start > 0, start >= buffer.count / 2 {
            buffer.removeSubrange(..<start)
            scanned -= start
            start = 0
        }
        buffer.append(contentsOf: chunk)
        return true
    }

    /// Takes `count` buffered bytes.
    private func take(_ count: Int) -> [UInt8] {
        let bytes = Array(buffer[start..<(start + count)])
        start += count
        scanned = max(scanned, start)
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
            scanned = 0
        }
        return bytes
    }

    /// The next line as bytes, without its "\n" (and a "\r" before it) unless
    /// `keepingTerminator`; a last line without "\n" is returned as it is.
    ///
    /// - Returns: nil at end of stream.
    /// - Throws: `LineTooLongError` for a line over `maxLineLength`;
    ///   `TimeoutError`; EBADF once closed; what `recv` throws.
    public func readLineBytes(keepingTerminator: Bool = false) async throws -> [UInt8]? {
        guard !isClosed else { throw badDescriptor() }
        while true {
            scanned = max(scanned, start)
            if let newline = buffer[scanned...].firstIndex(of: UInt8(ascii: "\n")) {
                var end = newline
                if end > start, buffer[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                let contentLength = end - start
                guard contentLength <= maxLineLength else { throw LineTooLongError(limit: maxLineLength) }
                var line = take(newline + 1 - start)
                if !keepingTerminator { line.removeSubrange(contentLength...) }
                return line
            }
            scanned = buffer.count
            guard bufferedCount <= maxLineLength else { throw LineTooLongError(limit: maxLineLength) }
            if try await !fill() {
                return bufferedCount == 0 ? nil : take(bufferedCount)
            }
        }
    }

    /// The next line as text (UTF-8; invalid bytes become U+FFFD), without
    /// its line end. Returns nil at end of stream; throws as `readLineBytes`.
    public func readLine() async throws -> String? {
        guard let bytes = try await readLineBytes() else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Exactly `count` bytes.
    ///
    /// - Throws: `IncompleteReadError` (with what did arrive) if the stream
    ///   ends first; `InvalidArgument` for a negative count; as `recv`.
    public func read(exactly count: Int) async throws -> [UInt8] {
        guard !isClosed else { throw badDescriptor() }
        guard count >= 0 else { throw InvalidArgument("read(exactly:) needs a count >= 0, got \(count)") }
        while bufferedCount < count {
            if try await !fill() { throw IncompleteReadError(expected: count, partial: take(bufferedCount)) }
        }
        return take(count)
    }

    /// At most `maxCount` bytes: what is buffered, or else one receive.
    /// Returns an empty array only at end of stream.
    public func read(upTo maxCount: Int) async throws -> [UInt8] {
        guard !isClosed else { throw badDescriptor() }
        guard maxCount >= 0 else { throw InvalidArgument("read(upTo:) needs a count >= 0, got \(maxCount)") }
        if maxCount == 0 { return [] }
        if bufferedCount == 0, try await !fill() { return [] }
        return take(min(maxCount, bufferedCount))
    }

    /// Everything until the end of the stream.
    ///
    /// - Parameter maxBytes: a bound; beyond it `InvalidArgument` is thrown
    ///   (nil: no bound).
    public func readToEnd(maxBytes: Int? = nil) async throws -> [UInt8] {
        guard !isClosed else { throw badDescriptor() }
        while try await fill() {
            if let maxBytes, bufferedCount > maxBytes {
                throw InvalidArgument("readToEnd: more than \(maxBytes) bytes before the end of the stream")
            }
        }
        if let maxBytes, bufferedCount > maxBytes {
            throw InvalidArgument("readToEnd: more than \(maxBytes) bytes before the end of the stream")
        }
        return take(bufferedCount)
    }

    /// The lines until the end of the stream, as `readLine()` gives them.
    public var lines: Lines { Lines(reader: self) }

    /// The bytes until the end of the stream, in chunks as they arrive
    /// (what is buffered comes first).
    public var chunks: Chunks { Chunks(reader: self) }

    /// The next chunk: what is buffered, or one receive; nil at end.
    func nextChunk() async throws -> [UInt8]? {
        let bytes = try await read(upTo: max(bufferedCount, chunkSize))
        return bytes.isEmpty ? nil : bytes
    }

    /// An async sequence of the reader's lines.
    public struct Lines: AsyncSequence {
        /// A line, without its line end.
        public typealias Element = String
        let reader: SocketReader

        /// Makes the iterator.
        public func makeAsyncIterator() -> Iterator { Iterator(reader: reader) }

        /// Reads one line per step.
        public struct Iterator: AsyncIteratorProtocol {
            let reader: SocketReader
            /// The next line, or nil at end of stream.
            public mutating func next() async throws -> String? { try await reader.readLine() }
        }
    }

    /// An async sequence of the reader's bytes in chunks.
    public struct Chunks: AsyncSequence {
        /// Some bytes (never empty).
        public typealias Element = [UInt8]
        let reader: SocketReader

        /// Makes the iterator.
        public func makeAsyncIterator() -> Iterator { Iterator(reader: reader) }

        /// Reads one chunk per step.
        public struct Iterator: AsyncIteratorProtocol {
            let reader: SocketReader
            /// The next chunk, or nil at end of stream.
            public mutating func next() async throws -> [UInt8]? { try await reader.nextChunk() }
        }
    }
}

extension Socket {
    /// A buffered reader on this socket (see `SocketReader`).
    ///
    /// - Parameters:
    ///   - maxLineLength: the longest line accepted (default 64 KiB).
    ///   - chunkSize: how much each receive asks for (default 16 KiB).
    /// - Throws: EBADF if closed; `InvalidArgument` for sizes below 1.
    public func makeReader(maxLineLength: Int = 65536, chunkSize: Int = 16384) throws -> SocketReader {
        _ = try liveDescriptor()
        guard maxLineLength >= 1, chunkSize >= 1 else {
            throw InvalidArgument("makeReader: maxLineLength and chunkSize must be at least 1")
        }
        return SocketReader(socket: self, maxLineLength: maxLineLength, chunkSize: chunkSize)
    }
}
