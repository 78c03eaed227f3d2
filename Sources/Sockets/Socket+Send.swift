#if canImport(Glibc)
import Glibc
#endif

extension Socket {
    /// Sends as much of `data` as the socket takes now: one attempt, and if
    /// it would block, one wait for writability and one retry.
    ///
    /// - Returns: the number of bytes sent; 0 if the retry would block too.
    /// - Throws: `TimeoutError` if the wait times out; EAGAIN with a zero
    ///   timeout; EPIPE/ECONNRESET when the peer is gone (never SIGPIPE);
    ///   `ConcurrentUseError` if another task is sending; EBADF if closed.
    public func send(_ data: ArraySlice<UInt8>, flags: MessageFlags = []) async throws -> Int {
        try await sendOnce(data, flags: flags, to: nil)
    }

    /// `send(_:flags:)` for a whole array.
    public func send(_ data: [UInt8], flags: MessageFlags = []) async throws -> Int {
        try await sendOnce(data[...], flags: flags, to: nil)
    }

    /// Sends all of `data`, waiting as often as needed.
    ///
    /// The socket's timeout is one deadline for the whole call, not per
    /// wait; there is always at least one attempt, even with a zero timeout
    /// (which then throws EAGAIN instead of waiting). Empty data returns at once.
    ///
    /// - Throws: `TimeoutError` when the deadline passes (some bytes may have
    ///   been sent); otherwise as `send(_:flags:)`.
    @inlinable
    public func sendAll(_ data: ArraySlice<UInt8>, flags: MessageFlags = []) async throws {
        // Most sends go out at once: then no async frame is made at all.
        let sent = try sendAllNow(data, flags: flags.rawValue, owner: .socket)
        if sent < data.count { try await sendRemainder(data, from: sent, flags: flags.rawValue, owner: .socket) }
    }

    /// `sendAll` for the socket itself or for a `SocketWriter`.
    func sendAll(_ data: ArraySlice<UInt8>, flags: MessageFlags, owner: Owner) async throws {
        let sent = try sendAllNow(data, flags: flags.rawValue, owner: owner)
        if sent < data.count { try await sendRemainder(data, from: sent, flags: flags.rawValue, owner: owner) }
    }

    /// Sends what the socket takes without waiting, holding the write side
    /// only meanwhile, and returns how many bytes went (all of an empty array).
    @usableFromInline @inline(never)
    func sendAllNow(_ data: ArraySlice<UInt8>, flags: Int32, owner: Owner) throws -> Int {
        _ = try liveDescriptor(owner)
        if data.isEmpty { return 0 }
        try beginWrite(owner)
        defer { writer = nil }
        var offset = data.startIndex
        _ = try sendSome(data, from: &offset, flags: flags | noSignal, owner: owner, deadline: nil)
        return offset - data.startIndex
    }

    /// Sends the rest after `sendAllNow` would have blocked: waits for
    /// writability and sends until done. The timeout is one deadline for
    /// all of it. The async frame keeps only what lives across the await.
    @usableFromInline
    func sendRemainder(_ data: ArraySlice<UInt8>, from sent: Int, flags: Int32, owner: Owner) async throws {
        try beginWrite(owner)
        defer { writer = nil }
        let deadline = storedTimeout.map { ContinuousClock.now.advanced(by: $0) }
        var offset = data.startIndex + sent
        var wait: Duration?? = .some(try firstWait(deadline: deadline))
        while let timeout = wait {
            try await waitWritable(timeout: timeout)
            wait = try sendSome(data, from: &offset, flags: flags | noSignal, owner: owner, deadline: deadline)
        }
    }

    /// The first wait of `sendRemainder`: the whole timeout (EAGAIN for a
    /// zero timeout, which never waits).
    @inline(never)
    private func firstWait(deadline: ContinuousClock.Instant?) throws -> Duration? {
        guard let deadline else { return nil }
        if storedTimeout == .zero { throw wouldBlock() }
        return ContinuousClock.now.duration(to: deadline)
    }

    /// Sends from `offset` until all is sent (nil) or the socket would block:
    /// then returns how long to wait (`.some(nil)`: forever).
    ///
    /// - Throws: `TimeoutError` when `deadline` passed (EAGAIN for a zero
    ///   timeout); EBADF if closed meanwhile; what `send(2)` throws.
    @inline(never)
    private func sendSome(_ data: ArraySlice<UInt8>, from offset: inout Int, flags: Int32, owner: Owner,
                          deadline: ContinuousClock.Instant?) throws -> Duration?? {
        let fd = try liveDescriptor(owner)
        while offset < data.endIndex {
            let start = offset
            let sent = try data.withUnsafeBytes { raw in
                try retryingSyscall { Glibc.send(fd, raw.baseAddress! + (start - data.startIndex), data.endIndex - start, flags) }
            }
            guard let sent else {
                guard let deadline else { return .some(nil) }
                let remaining = ContinuousClock.now.duration(to: deadline)
                if remaining <= .zero { throw storedTimeout == .zero ? wouldBlock() : TimeoutError() }
                return .some(remaining)
            }
            offset += sent
        }
        return nil
    }

    /// `sendAll(_:flags:)` for a whole array.
    @inlinable
    public func sendAll(_ data: [UInt8], flags: MessageFlags = []) async throws {
        try await sendAll(data[...], flags: flags)
    }

    /// `sendAll(_:flags:)` for text, as UTF-8.
    public func sendAll(_ text: String, flags: MessageFlags = []) async throws {
        try await sendAll(Array(text.utf8)[...], flags: flags)
    }

    /// Sends a datagram to `address`: one attempt, one wait, one retry, as
    /// `send(_:flags:)`.
    ///
    /// - Returns: the number of bytes sent; 0 if the retry would block too.
    /// - Throws: `InvalidArgument` for an address that is not numeric (or a
    ///   Unix path too long); otherwise as `send(_:flags:)`.
    public func sendto(_ data: ArraySlice<UInt8>, address: SocketAddress, flags: MessageFlags = []) async throws -> Int {
        try await sendOnce(data, flags: flags, to: address)
    }

    /// `sendto(_:address:flags:)` for a whole array.
    public func sendto(_ data: [UInt8], address: SocketAddress, flags: MessageFlags = []) async throws -> Int {
        try await sendOnce(data[...], flags: flags, to: address)
    }

    /// One send (or sendto), one wait, one retry; 0 if the retry would block.
    func sendOnce(_ data: ArraySlice<UInt8>, flags: MessageFlags, to address: SocketAddress?) async throws -> Int {
        let fd = try liveDescriptor()
        try beginWrite(.socket)
        defer { writer = nil }
        if let sent = try attemptSend(fd, data, flags: flags.rawValue | noSignal, to: address) { return sent }
        try await waitWritable(timeout: storedTimeout)
        return try attemptSend(try liveDescriptor(), data, flags: flags.rawValue | noSignal, to: address) ?? 0
    }

    /// One non-blocking send; nil if it would block.
    func attemptSend(_ fd: Int32, _ data: ArraySlice<UInt8>, flags: Int32, to address: SocketAddress?) throws -> Int? {
        try data.withUnsafeBytes { raw in
            guard let address else {
                return try retryingSyscall { Glibc.send(fd, raw.baseAddress, raw.count, flags) }
            }
            return try address.withSockAddr { sockaddr, length in
                try retryingSyscall { Glibc.sendto(fd, raw.baseAddress, raw.count, flags, sockaddr, length) }
            }
        }
    }
}
