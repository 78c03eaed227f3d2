/// Buffered writing to a socket, in place of Python's `makefile('wb')`:
/// `write` collects small pieces and sends them in one go when the buffer
/// fills or on `flush()`.
///
/// An open writer keeps the socket's descriptor open after `socket.close()`
/// until the writer is closed too. Sends hold the socket's write side; the
/// socket's timeout is one deadline per flush.
///
/// ```swift
/// let writer = try socket.makeWriter()
/// try await writer.write("HELO example\r\n")
/// try await writer.flush()
/// try await writer.close()
/// ```
public final class SocketWriter {
    /// The socket written to.
    public let socket: Socket
    /// Bytes buffered before a send is forced.
    public let capacity: Int
    private var buffer: [UInt8] = []
    private var isClosed = false

    init(socket: Socket, capacity: Int) {
        self.socket = socket
        self.capacity = capacity
        socket.streamOpened()
    }

    deinit {
        // Unflushed bytes are dropped: close() flushes, deinit cannot.
        guard !isClosed else { return }
        let socket = HubBound(socket)
        socket.hub.execute { try? socket.value.streamClosed() }
    }

    /// Bytes written and not yet sent.
    public var bufferedCount: Int { buffer.count }

    /// Buffers `bytes`, sending the buffer when it reaches `capacity` (large
    /// writes go out directly).
    ///
    /// - Throws: EBADF once closed; what `sendAll` throws.
    public func write(_ bytes: [UInt8]) async throws {
        guard !isClosed else { throw badDescriptor() }
        if buffer.count + bytes.count <= capacity {
            buffer.append(contentsOf: bytes)
            if buffer.count == capacity { try await flush() }
            return
        }
        try await flush()
        if bytes.count >= capacity {
            try await socket.sendAll(bytes[...], flags: [], owner: .stream)
        } else {
            buffer.append(contentsOf: bytes)
        }
    }

    /// Buffers `text` as UTF-8; see `write(_:)`.
    public func write(_ text: String) async throws {
        try await write(Array(text.utf8))
    }

    /// Sends everything buffered.
    ///
    /// - Throws: EBADF once closed; what `sendAll` throws (the bytes not
    ///   sent stay buffered).
    public func flush() async throws {
        guard !isClosed else { throw badDescriptor() }
        guard !buffer.isEmpty else { return }
        try await socket.sendAll(buffer[...], flags: [], owner: .stream)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes, then closes the writer (not the socket); the descriptor
    /// closes now if the socket was closed before. The writer is closed
    /// even when the flush throws. Closing twice does nothing.
    public func close() async throws {
        guard !isClosed else { return }
        defer {
            isClosed = true
            buffer = []
            socket.streamClosed()
        }
        try await flush()
    }
}

extension Socket {
    /// A buffered writer on this socket (see `SocketWriter`).
    ///
    /// - Parameter capacity: bytes buffered before a send (default 8 KiB).
    /// - Throws: EBADF if closed; `InvalidArgument` for a capacity below 1.
    public func makeWriter(capacity: Int = 8192) throws -> SocketWriter {
        _ = try liveDescriptor()
        guard capacity >= 1 else { throw InvalidArgument("makeWriter: capacity must be at least 1") }
        return SocketWriter(socket: self, capacity: capacity)
    }
}
