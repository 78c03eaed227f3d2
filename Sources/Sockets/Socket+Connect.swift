#if canImport(Glibc)
import Glibc
#endif

extension Socket {
    /// Connects to `address`, suspending until the connection is made.
    ///
    /// The timeout is one deadline for the whole connect. With a zero timeout
    /// the connect is only started: EINPROGRESS is thrown and the caller
    /// waits for writability itself (Python's non-blocking `connect`).
    ///
    /// - Throws: `SystemError` (ECONNREFUSED, ENETUNREACH, ...), `TimeoutError`,
    ///   `InvalidArgument` for an address of another family or not numeric,
    ///   `ConcurrentUseError` if another task is sending or connecting.
    public func connect(to address: SocketAddress) async throws {
        _ = try liveDescriptor()
        try checkFamily(of: address)
        if storedTimeout == .zero {
            try await connectLoop(address)
        } else {
            try await withTimeout(storedTimeout) { try await connectLoop(address) }
        }
    }

    /// Connects to `host` and `port`. An IP literal is used as given (an IPv6
    /// scope such as `fe80::1%eth0` is kept); a name is resolved with
    /// `resolver` (default: the hub's), for this socket's family and type,
    /// and the first address is used. One deadline covers both steps.
    ///
    /// - Throws: the resolver's errors (`AddressInfoError`), `InvalidArgument`
    ///   for a port outside 0...65535; otherwise as `connect(to:)`.
    public func connect(host: String, port: Int, resolver: (any Resolver)? = nil) async throws {
        _ = try liveDescriptor()
        if storedTimeout == .zero {
            let address = try await resolveAddress(host: host, port: port, resolver: resolver)
            try await connectLoop(address)
        } else {
            try await withTimeout(storedTimeout) {
                let address = try await resolveAddress(host: host, port: port, resolver: resolver)
                try await connectLoop(address)
            }
        }
    }

    /// `connect(to:)`, but a connection error is returned as its errno
    /// instead of thrown (0 on success), and a timeout gives EAGAIN, as
    /// Python's `connect_ex`. Bad arguments and other errors still throw.
    public func connectEx(to address: SocketAddress) async throws -> Int32 {
        try await errnoOf { try await connect(to: address) }
    }

    /// `connect(host:port:resolver:)` returning an errno as `connectEx(to:)`;
    /// resolver errors still throw.
    public func connectEx(host: String, port: Int, resolver: (any Resolver)? = nil) async throws -> Int32 {
        try await errnoOf { try await connect(host: host, port: port, resolver: resolver) }
    }

    private func errnoOf(_ body: () async throws -> Void) async throws -> Int32 {
        do {
            try await body()
            return 0
        } catch let error as SystemError {
            return error.code
        } catch is TimeoutError {
            return EAGAIN
        }
    }

    /// connect(2), then wait for writability and read SO_ERROR; repeated
    /// while the kernel says to try again. Holds the write side.
    private func connectLoop(_ address: SocketAddress) async throws {
        var fd = try liveDescriptor()
        try beginWrite(.socket)
        defer { writer = nil }
        while true {
            let code = try address.withSockAddr { sockaddr, length -> Int32 in
                Glibc.connect(fd, sockaddr, length) == 0 ? 0 : errno
            }
            switch code {
            case 0, EISCONN:
                return
            case EINTR:
                continue
            case EINPROGRESS, EALREADY, EAGAIN:
                // A zero timeout starts the connect and reports it, as Python does.
                if storedTimeout == .zero { throw SystemError(code: code) }
                // The enclosing `withTimeout` scope bounds this wait.
                try await waitWritable(timeout: nil)
                fd = try liveDescriptor()
                let error = try intOption(fd, level: SOL_SOCKET, name: SO_ERROR)
                if error != 0 { throw SystemError(code: error) }
                // EAGAIN (a full Unix listen queue) means "call connect again";
                // otherwise writability with no error means connected.
                if code != EAGAIN { return }
            default:
                throw SystemError(code: code)
            }
        }
    }

    /// Binds to `address` (`bind(2)`).
    ///
    /// - Throws: `SystemError` (EADDRINUSE, EACCES, ...), `InvalidArgument`
    ///   for an address of another family or not numeric.
    public func bind(to address: SocketAddress) throws {
        let fd = try liveDescriptor()
        try checkFamily(of: address)
        _ = try address.withSockAddr { sockaddr, length in
            try checkedSyscall { Glibc.bind(fd, sockaddr, length) }
        }
    }

    /// Binds to `host` and `port`; a name (or "" for the wildcard) is
    /// resolved with `resolver` (default: the hub's) as in `connect(host:port:)`.
    public func bind(host: String, port: Int, resolver: (any Resolver)? = nil) async throws {
        _ = try liveDescriptor()
        let address = try await resolveAddress(host: host, port: port, resolver: resolver)
        try bind(to: address)
    }

    /// Starts listening (`listen(2)`); `backlog` is capped by the kernel's somaxconn.
    ///
    /// - Throws: `InvalidArgument` for a negative backlog; `SystemError`.
    public func listen(backlog: Int = 128) throws {
        let fd = try liveDescriptor()
        guard backlog >= 0 else { throw InvalidArgument("listen: backlog must not be negative (got \(backlog))") }
        _ = try checkedSyscall { Glibc.listen(fd, Int32(clamping: backlog)) }
    }

    /// Accepts a connection (`accept4(2)`), suspending until one arrives.
    /// The new socket belongs to the same hub, is non-blocking and
    /// close-on-exec, and starts with `Socket.defaultTimeout`. Connections
    /// aborted before they were accepted are skipped.
    ///
    /// - Returns: the connected socket and the peer's address.
    /// - Throws: `TimeoutError`, EAGAIN with a zero timeout,
    ///   `ConcurrentUseError` if another task is accepting, `SystemError`
    ///   (EMFILE, EINVAL when not listening, ...).
    public func accept() async throws -> sending (Socket, SocketAddress) {
        var storage = sockaddr_storage()
        var length = socklen_t(0)
        let fd = try await readLoop { fd -> Int32? in
            while true {
                length = socklen_t(MemoryLayout<sockaddr_storage>.size)
                do {
                    return try withUnsafeMutablePointer(to: &storage) { pointer in
                        try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                            try retryingSyscall { acceptNonBlocking(fd, address, &length) }
                        }
                    }
                } catch let error as SystemError where error.code == ECONNABORTED {
                    continue
                }
            }
        }
        let peer: SocketAddress
        do {
            peer = try decodeAddress(&storage, length: length) ?? .unix(path: "")
        } catch {
            _ = Glibc.close(fd)
            throw error
        }
        let connection = Socket(descriptor: fd, family: family, type: type, proto: proto, hub: hub,
                                timeout: Socket.defaultTimeout, scratch: scratch)
        return (connection, peer)
    }

    /// Shuts down one or both directions (`shutdown(2)`). Tasks waiting in
    /// the directions shut wake first with EBADF, as from `close()`.
    ///
    /// - Throws: EBADF if closed; ENOTCONN if not connected.
    public func shutdown(_ direction: ShutdownDirection) throws {
        let fd = try liveDescriptor()
        if direction != .write, let readWatcher, readWatcher.isWaiting { readWatcher.cancelWait() }
        if direction != .read, let writeWatcher, writeWatcher.isWaiting { writeWatcher.cancelWait() }
        _ = try checkedSyscall { Glibc.shutdown(fd, direction.rawValue) }
    }

    /// The address the socket is bound to (`getsockname(2)`).
    public func localAddress() throws -> SocketAddress {
        let fd = try liveDescriptor()
        return try readAddress { getsockname(fd, $0, $1) }
    }

    /// The address of the peer (`getpeername(2)`).
    ///
    /// - Throws: ENOTCONN when not connected.
    public func remoteAddress() throws -> SocketAddress {
        let fd = try liveDescriptor()
        return try readAddress { getpeername(fd, $0, $1) }
    }

    private func readAddress(_ call: (UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32) throws -> SocketAddress {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = try withUnsafeMutablePointer(to: &storage) { pointer in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                try checkedSyscall { call(address, &length) }
            }
        }
        // An unbound Unix socket has an empty name.
        return try decodeAddress(&storage, length: length) ?? .unix(path: "")
    }

    /// Rejects an address of another family than the socket's.
    func checkFamily(of address: SocketAddress) throws {
        guard address.family == family else {
            throw InvalidArgument("address \(address) is \(address.family), but the socket is \(family)")
        }
    }

    /// An IP literal as given, or the first address the resolver gives for
    /// this socket's family and type.
    func resolveAddress(host: String, port: Int, resolver: (any Resolver)?) async throws -> SocketAddress {
        guard (0...65535).contains(port) else { throw InvalidArgument("port must be 0-65535, got \(port)") }
        guard family == .inet || family == .inet6 else {
            throw InvalidArgument("a host and port need an AF_INET or AF_INET6 socket, this one is \(family)")
        }
        if SocketAddress.isNumericHost(host) {
            let address = try SocketAddress(numericHost: host, port: UInt16(port))
            try checkFamily(of: address)
            return address
        }
        let resolver = try resolver ?? hubResolver(hub)
        let results = try await resolver.getaddrinfo(host: host, port: .number(port), family: family, type: type,
                                                     proto: proto, flags: [])
        guard let first = results.first else { throw AddressInfoError(code: AddressInfoError.noData) }
        return first.address.withPort(UInt16(port))
    }
}
