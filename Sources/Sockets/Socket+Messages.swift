#if canImport(Glibc)
import Glibc
#endif

/// What `recvmsg` received.
public struct ReceivedMessage: Sendable, Equatable {
    /// The data.
    public var bytes: [UInt8]
    /// Descriptors passed with the data (`SCM_RIGHTS`), already
    /// close-on-exec. The caller owns them and must close them.
    public var descriptors: [Int32]
    /// The sender's address, when the kernel reports one.
    public var address: SocketAddress?
    /// Result flags: `.truncated` (the datagram was longer than asked) and
    /// `.controlTruncated` (more descriptors were sent than asked for; the
    /// kernel closed the rest).
    public var flags: MessageFlags
}

// The layout of control messages (the CMSG_* macros, which Swift cannot
// import): a header of `size_t len, int level, int type`, then the data,
// each aligned to `size_t`.
private let headerSize = MemoryLayout<cmsghdr>.size
private func cmsgAlign(_ length: Int) -> Int {
    (length + MemoryLayout<Int>.size - 1) & ~(MemoryLayout<Int>.size - 1)
}
private func cmsgSpace(_ dataLength: Int) -> Int { cmsgAlign(dataLength) + cmsgAlign(headerSize) }
private func cmsgLength(_ dataLength: Int) -> Int { cmsgAlign(headerSize) + dataLength }

extension Socket {
    /// Sends `data` and, on a Unix socket, `descriptors` (`SCM_RIGHTS`), to
    /// the connected peer or to `address`. Like `send`: one attempt, one
    /// wait, one retry, then 0. The descriptors stay open here; the
    /// receiver gets duplicates.
    ///
    /// - Throws: `InvalidArgument` for a negative descriptor; otherwise as `send`.
    public func sendmsg(_ data: [UInt8], descriptors: [Int32] = [], to address: SocketAddress? = nil,
                        flags: MessageFlags = []) async throws -> Int {
        if let bad = descriptors.first(where: { $0 < 0 }) {
            throw InvalidArgument("sendmsg: cannot pass descriptor \(bad)")
        }
        let fd = try liveDescriptor()
        try beginWrite(.socket)
        defer { writer = nil }
        let flags = flags.rawValue | noSignal
        if let sent = try attemptSendMessage(fd, data, descriptors, address, flags) { return sent }
        try await waitWritable(timeout: storedTimeout)
        return try attemptSendMessage(try liveDescriptor(), data, descriptors, address, flags) ?? 0
    }

    private func attemptSendMessage(_ fd: Int32, _ data: [UInt8], _ descriptors: [Int32], _ address: SocketAddress?,
                                    _ flags: Int32) throws -> Int? {
        let controlLength = descriptors.isEmpty ? 0 : cmsgSpace(descriptors.count * 4)
        let control = UnsafeMutableRawBufferPointer.allocate(byteCount: max(controlLength, 1), alignment: 8)
        defer { control.deallocate() }
        if controlLength > 0 {
            control.initializeMemory(as: UInt8.self, repeating: 0)
            let header = control.baseAddress!.assumingMemoryBound(to: cmsghdr.self)
            header.pointee.cmsg_len = cmsgLength(descriptors.count * 4)
            header.pointee.cmsg_level = SOL_SOCKET
            header.pointee.cmsg_type = Int32(SCM_RIGHTS)
            descriptors.withUnsafeBytes { source in
                (control.baseAddress! + cmsgAlign(headerSize)).copyMemory(from: source.baseAddress!, byteCount: source.count)
            }
        }
        var data = data
        return try data.withUnsafeMutableBytes { raw in
            var vector = iovec(iov_base: raw.baseAddress, iov_len: raw.count)
            return try withUnsafeMutablePointer(to: &vector) { vectorPointer in
                var message = msghdr()
                message.msg_iov = vectorPointer
                message.msg_iovlen = 1
                message.msg_control = controlLength > 0 ? control.baseAddress : nil
                message.msg_controllen = controlLength
                guard let address else {
                    return try retryingSyscall { Glibc.sendmsg(fd, &message, flags) }
                }
                return try address.withSockAddr { sockaddr, length in
                    message.msg_name = UnsafeMutableRawPointer(mutating: sockaddr)
                    message.msg_namelen = length
                    return try retryingSyscall { Glibc.sendmsg(fd, &message, flags) }
                }
            }
        }
    }

    /// Receives at most `maxBytes` bytes and at most `maxDescriptors`
    /// passed descriptors (`SCM_RIGHTS`, on Unix sockets), suspending until
    /// something arrives.
    ///
    /// - Throws: `InvalidArgument` for negative sizes; otherwise as `recv`.
    public func recvmsg(_ maxBytes: Int, maxDescriptors: Int = 0, flags: MessageFlags = []) async throws -> ReceivedMessage {
        guard maxBytes >= 0, maxDescriptors >= 0 else {
            throw InvalidArgument("recvmsg: sizes must not be negative (maxBytes \(maxBytes), maxDescriptors \(maxDescriptors))")
        }
        let controlLength = maxDescriptors == 0 ? 0 : cmsgSpace(maxDescriptors * 4)
        let control = UnsafeMutableRawBufferPointer.allocate(byteCount: max(controlLength, 1), alignment: 8)
        defer { control.deallocate() }
        var bytes = [UInt8](repeating: 0, count: maxBytes)
        var storage = sockaddr_storage()
        var message = msghdr()
        let count = try await readLoop { fd in
            try bytes.withUnsafeMutableBytes { raw in
                var vector = iovec(iov_base: raw.baseAddress, iov_len: raw.count)
                return try withUnsafeMutablePointer(to: &vector) { vectorPointer in
                    try withUnsafeMutablePointer(to: &storage) { name in
                        message = msghdr()
                        message.msg_name = UnsafeMutableRawPointer(name)
                        message.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
                        message.msg_iov = vectorPointer
                        message.msg_iovlen = 1
                        message.msg_control = controlLength > 0 ? control.baseAddress : nil
                        message.msg_controllen = controlLength
                        return try retryingSyscall { Glibc.recvmsg(fd, &message, flags.rawValue | Int32(MSG_CMSG_CLOEXEC)) }
                    }
                }
            }
        }
        var descriptors = Self.passedDescriptors(control, length: Int(message.msg_controllen))
        var resultFlags = MessageFlags(rawValue: message.msg_flags & ~Int32(MSG_CMSG_CLOEXEC))
        // Alignment can leave room for more descriptors than asked for: keep
        // the promise, close the extras and report them as truncated.
        if descriptors.count > maxDescriptors {
            for fd in descriptors[maxDescriptors...] { _ = Glibc.close(fd) }
            descriptors.removeSubrange(maxDescriptors...)
            resultFlags.insert(.controlTruncated)
        }
        bytes.removeSubrange(min(count, maxBytes)...)
        let address: SocketAddress?
        do {
            address = try decodeAddress(&storage, length: message.msg_namelen)
        } catch {
            for fd in descriptors { _ = Glibc.close(fd) }
            throw error
        }
        return ReceivedMessage(bytes: bytes, descriptors: descriptors, address: address, flags: resultFlags)
    }

    /// The descriptors in the `SCM_RIGHTS` messages of a control buffer.
    private static func passedDescriptors(_ control: UnsafeMutableRawBufferPointer, length: Int) -> [Int32] {
        var descriptors: [Int32] = []
        var offset = 0
        let base = control.baseAddress!
        while offset + headerSize <= length {
            let header = (base + offset).load(as: cmsghdr.self)
            let messageLength = Int(header.cmsg_len)
            guard messageLength >= headerSize, offset + messageLength <= length else { break }
            if header.cmsg_level == SOL_SOCKET, header.cmsg_type == Int32(SCM_RIGHTS) {
                let count = (messageLength - cmsgAlign(headerSize)) / 4
                for index in 0..<count {
                    descriptors.append((base + offset + cmsgAlign(headerSize) + index * 4).loadUnaligned(as: Int32.self))
                }
            }
            offset += cmsgAlign(messageLength)
        }
        return descriptors
    }
}
