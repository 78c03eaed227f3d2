#if canImport(Glibc)
import Glibc
#endif

extension Socket {
    /// Receives at most `maxBytes` bytes, suspending until some arrive.
    ///
    /// - Returns: the bytes; empty at end of stream (the peer shut down or
    ///   closed), or for an empty datagram.
    /// - Throws: `TimeoutError` after `timeout`; EAGAIN with a zero timeout;
    ///   `ConcurrentUseError` if another task is receiving; EBADF if closed
    ///   (also when another task closes it meanwhile); `InvalidArgument`
    ///   for a negative `maxBytes`; `SystemError` from `recv(2)`.
    @inlinable
    public func recv(_ maxBytes: Int, flags: MessageFlags = []) async throws -> [UInt8] {
        // Inlined into the caller, so a task blocked here holds one async
        // frame less (see `receiveBytes`): the wait is the caller's own.
        if let bytes = try receiveFirst(maxBytes, flags: flags.rawValue) { return bytes }
        do {
            while true {
                try await readWatcherForWait(timeout: timeout).wait(timeout: timeout)
                if let bytes = try receiveOnce(maxBytes, flags: flags.rawValue, owner: .socket) {
                    endReceive()
                    return bytes
                }
            }
        } catch {
            endReceive()
            throw error
        }
    }

    /// Claims the read side and tries once (unless the last receive drained
    /// the buffer); releases the side again when it got something.
    @usableFromInline @inline(never)
    func receiveFirst(_ maxBytes: Int, flags: Int32) throws -> [UInt8]? {
        guard !(try beginReceive(maxBytes, flags: flags, owner: .socket)) else { return nil }
        do {
            guard let bytes = try receiveOnce(maxBytes, flags: flags, owner: .socket) else { return nil }
            endReceive()
            return bytes
        } catch {
            endReceive()
            throw error
        }
    }

    /// Receives into `buffer` (at most its count, or `maxBytes` if smaller)
    /// and returns how many bytes arrived; 0 at end of stream. Reuse one
    /// buffer to receive without allocating. Throws as `recv(_:flags:)`.
    public func recv(into buffer: inout [UInt8], maxBytes: Int? = nil, flags: MessageFlags = []) async throws -> Int {
        let limit = try receiveLimit(maxBytes, capacity: buffer.count)
        return try await readLoop { fd in
            try buffer.withUnsafeMutableBytes { raw in
                try retryingSyscall { Glibc.recv(fd, raw.baseAddress, limit, flags.rawValue) }
            }
        }
    }

    /// Receives into memory the caller owns; it must stay valid until this
    /// returns. Returns how many bytes arrived; 0 at end of stream. Throws
    /// as `recv(_:flags:)`.
    public func recv(into buffer: UnsafeMutableRawBufferPointer, flags: MessageFlags = []) async throws -> Int {
        try await readLoop { fd in
            try retryingSyscall { Glibc.recv(fd, buffer.baseAddress, buffer.count, flags.rawValue) }
        }
    }

    /// Receives a datagram (or stream data) and the address it came from.
    ///
    /// - Returns: the bytes, and the sender's address (nil when the kernel
    ///   reports none, as for a connected stream socket).
    /// - Throws: as `recv(_:flags:)`.
    public func recvfrom(_ maxBytes: Int, flags: MessageFlags = []) async throws -> (bytes: [UInt8], address: SocketAddress?) {
        guard maxBytes >= 0 else { throw InvalidArgument("recvfrom: maxBytes must not be negative (got \(maxBytes))") }
        var bytes = [UInt8](repeating: 0, count: maxBytes)
        let (count, address) = try await recvfrom(into: &bytes)
        bytes.removeSubrange(min(count, maxBytes)...)
        return (bytes, address)
    }

    /// Receives into `buffer` and returns the count and the sender's
    /// address. Throws as `recv(_:flags:)`.
    public func recvfrom(into buffer: inout [UInt8], maxBytes: Int? = nil, flags: MessageFlags = []) async throws -> (count: Int, address: SocketAddress?) {
        let limit = try receiveLimit(maxBytes, capacity: buffer.count)
        var storage = sockaddr_storage()
        var length = socklen_t(0)
        let count = try await readLoop { fd in
            length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            return try buffer.withUnsafeMutableBytes { raw in
                try withUnsafeMutablePointer(to: &storage) { pointer in
                    try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                        try retryingSyscall { Glibc.recvfrom(fd, raw.baseAddress, limit, flags.rawValue, address, &length) }
                    }
                }
            }
        }
        return (count, try decodeAddress(&storage, length: length))
    }

    /// The receive size for a buffer of `capacity` bytes and an optional limit.
    func receiveLimit(_ maxBytes: Int?, capacity: Int) throws -> Int {
        guard let maxBytes else { return capacity }
        guard maxBytes >= 0 else { throw InvalidArgument("maxBytes must not be negative (got \(maxBytes))") }
        guard maxBytes <= capacity else {
            throw InvalidArgument("maxBytes (\(maxBytes)) is larger than the buffer (\(capacity) bytes)")
        }
        return maxBytes
    }

    // The hot path. Its async frame holds only what lives across its one
    // await: the system call, the copy and the checks run in synchronous
    // helpers. That keeps a task blocked in `recv` within the first slab of
    // its task allocator, about a kilobyte less per idle connection.

    /// Receives into the hub's scratch buffer and copies out what arrived,
    /// so nothing is allocated while waiting and only the result after.
    func receiveBytes(_ maxBytes: Int, flags: Int32, owner: Owner) async throws -> [UInt8] {
        var waitFirst = try beginReceive(maxBytes, flags: flags, owner: owner)
        defer { endReceive() }
        while true {
            if !waitFirst, let bytes = try receiveOnce(maxBytes, flags: flags, owner: owner) { return bytes }
            waitFirst = false
            try await waitReadable(timeout: storedTimeout)
        }
    }

    /// Checks the arguments, the hub and the descriptor, claims the read
    /// side, and says whether to wait before the first try (see `readDrained`).
    @usableFromInline @inline(never)
    func beginReceive(_ maxBytes: Int, flags: Int32, owner: Owner) throws -> Bool {
        _ = try liveDescriptor(owner)
        guard maxBytes >= 0 else { throw InvalidArgument("recv: maxBytes must not be negative (got \(maxBytes))") }
        try beginRead(owner)
        guard readDrained, flags == 0, !neverWaits else { return false }
        readDrained = false
        return true
    }

    /// Releases the read side.
    @usableFromInline
    func endReceive() { reader = nil }

    /// One non-blocking receive; nil if it would block.
    @usableFromInline @inline(never)
    func receiveOnce(_ maxBytes: Int, flags: Int32, owner: Owner) throws -> [UInt8]? {
        let fd = try liveDescriptor(owner)
        if maxBytes <= ReceiveScratch.size {
            let scratch = self.scratch.buffer
            guard let count = try retryingSyscall({ Glibc.recv(fd, scratch.baseAddress, maxBytes, flags) }) else { return nil }
            // A short read of a stream emptied the kernel buffer.
            if flags == 0, type == .stream { readDrained = count > 0 && count < maxBytes }
            return [UInt8](UnsafeRawBufferPointer(rebasing: scratch[..<count]))
        }
        var blocked = false
        let bytes = try [UInt8](unsafeUninitializedCapacity: maxBytes) { raw, count in
            count = 0
            if let received = try retryingSyscall({ Glibc.recv(fd, raw.baseAddress, maxBytes, flags) }) {
                count = received
            } else {
                blocked = true
            }
        }
        return blocked ? nil : bytes
    }
}

/// Reads a socket address the kernel filled in; nil when it gave none.
func decodeAddress(_ storage: inout sockaddr_storage, length: socklen_t) throws -> SocketAddress? {
    guard length > 0, storage.ss_family != sa_family_t(AF_UNSPEC) else { return nil }
    return try withUnsafePointer(to: &storage) { pointer in
        try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { try SocketAddress($0, length: length) }
    }
}
