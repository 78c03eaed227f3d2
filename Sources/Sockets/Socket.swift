#if canImport(Glibc)
import Glibc
#endif

/// A cooperative socket, gevent-style: every operation suspends only the
/// calling task, never the hub's thread.
///
/// The descriptor is always non-blocking. An operation first tries its
/// system call and waits on the socket's read or write watcher only when
/// the call would block, so a ready socket costs one system call and no
/// wait. At most one task reads and one task writes at a time; a second
/// concurrent reader (or writer) gets `ConcurrentUseError` at once.
///
/// A socket belongs to the hub it was made on and is not `Sendable`. Use it
/// from tasks that run on that hub (`hub.run`, `hub.spawn`, child tasks of
/// those); from anywhere else every operation throws `WrongHubError`. To share
/// one socket among sibling tasks of its hub, wrap it in `HubBound`.
///
/// ```swift
/// try await hub.run {
///     let socket = try Socket(family: .inet, type: .stream)
///     try await socket.connect(to: .inet(host: "127.0.0.1", port: 7))
///     try await socket.sendAll("hello")
///     let reply = try await socket.recv(1024)
///     socket.close()
/// }
/// ```
public final class Socket: FileDescriptorConvertible, CustomStringConvertible {
    /// Who holds the read or write side during an operation.
    @usableFromInline
    enum Owner { case socket, stream }

    /// The hub whose loop watches this socket; operations must run there.
    public let hub: Hub
    /// The address family.
    public let family: AddressFamily
    /// The socket type.
    public let type: SocketType
    /// The protocol.
    public let proto: IPProtocol

    /// The open descriptor, or -1 once really closed or detached.
    var descriptor: Int32
    /// Set by `close()`: the socket reads -1 and refuses operations, though
    /// an open reader or writer may keep `descriptor` alive.
    var isClosedByUser = false
    /// Open `SocketReader`s and `SocketWriter`s.
    var openStreams = 0
    /// The operation holding each direction, if any.
    var reader: Owner?
    var writer: Owner?
    /// Made on first wait, kept until close: no system call per wait.
    var readWatcher: IOWatcher?
    var writeWatcher: IOWatcher?
    /// The hub's receive buffer (see `ReceiveScratch`).
    let scratch: ReceiveScratch
    /// See `timeout`.
    var storedTimeout: Duration? {
        didSet { neverWaits = storedTimeout == .zero }
    }
    /// `storedTimeout == .zero`, kept at hand for the hot paths.
    var neverWaits = false
    /// The last stream receive got less than it asked for, so the kernel
    /// buffer was empty then: the next receive waits for readability before
    /// trying, which saves a system call that would almost surely say "would
    /// block". Safe because the watchers are level-triggered: data that came
    /// meanwhile makes the wait return at once.
    var readDrained = false

    // MARK: Making sockets

    /// Makes a socket (`socket(2)` with `SOCK_NONBLOCK | SOCK_CLOEXEC`).
    ///
    /// - Parameters:
    ///   - family: `.inet`, `.inet6` or `.unix`.
    ///   - type: `.stream` or `.datagram` (or another `SOCK_*` value).
    ///   - proto: usually `.any`, the default for the type.
    ///   - hub: the hub it belongs to; default the current hub, else `Hub.default`.
    /// - Throws: `SystemError` from `socket(2)` (EAFNOSUPPORT, EMFILE, ...).
    public init(family: AddressFamily = .inet, type: SocketType = .stream, proto: IPProtocol = .any, hub: Hub? = nil) throws {
        let fd = try checkedSyscall { socket(family.rawValue, type.rawValue | nonBlockingCloseOnExec, proto.rawValue) }
        let hub = hub ?? Hub.current ?? Hub.default
        self.hub = hub
        self.family = family
        self.type = type
        self.proto = proto
        self.descriptor = fd
        self.scratch = ReceiveScratch.of(hub)
        self.storedTimeout = Socket.defaultTimeout
        self.neverWaits = storedTimeout == .zero
    }

    /// Takes ownership of an open socket descriptor (Python's
    /// `socket(fileno=fd)`): makes it non-blocking and reads its family,
    /// type and protocol from the kernel. The socket closes it.
    ///
    /// - Throws: `SystemError` (ENOTSOCK, EBADF) when `fd` is not an open socket.
    public convenience init(adopting fd: Int32, hub: Hub? = nil) throws {
        guard fd >= 0 else { throw SystemError(code: EBADF, message: "Bad file descriptor: \(fd)") }
        let family = try intOption(fd, level: SOL_SOCKET, name: SO_DOMAIN)
        let type = try intOption(fd, level: SOL_SOCKET, name: SO_TYPE)
        let proto = try intOption(fd, level: SOL_SOCKET, name: SO_PROTOCOL)
        try setNonBlocking(fd)
        self.init(descriptor: fd, family: AddressFamily(rawValue: family), type: SocketType(rawValue: type),
                  proto: IPProtocol(rawValue: proto), hub: hub ?? Hub.current ?? Hub.default, timeout: Socket.defaultTimeout)
    }

    /// Duplicates `fd` and adopts the copy (Python's `socket.fromfd`); the
    /// caller keeps `fd`. The two share one open file: both become non-blocking.
    ///
    /// - Throws: `SystemError` when `fd` is not an open socket.
    public static func fromDescriptor(_ fd: Int32, hub: Hub? = nil) throws -> sending Socket {
        guard fd >= 0 else { throw SystemError(code: EBADF, message: "Bad file descriptor: \(fd)") }
        let copy = try checkedSyscall { fcntl(fd, F_DUPFD_CLOEXEC, 0) }
        do {
            return try Socket(adopting: copy, hub: hub)
        } catch {
            _ = Glibc.close(copy)
            throw error
        }
    }

    /// Wraps a descriptor known to be a non-blocking socket.
    init(descriptor: Int32, family: AddressFamily, type: SocketType, proto: IPProtocol, hub: Hub, timeout: Duration?,
         scratch: ReceiveScratch? = nil) {
        self.hub = hub
        self.family = family
        self.type = type
        self.proto = proto
        self.descriptor = descriptor
        self.scratch = scratch ?? ReceiveScratch.of(hub)
        self.storedTimeout = timeout
        self.neverWaits = timeout == .zero
    }

    deinit {
        // No task can be waiting: a waiting operation keeps the socket alive.
        if descriptor >= 0 { _ = Glibc.close(descriptor) }
    }

    // MARK: State

    /// The descriptor, or -1 after `close()` or `detach()`.
    public var fileDescriptor: Int32 { isClosedByUser ? -1 : descriptor }

    /// Whether `close()` or `detach()` was called.
    public var isClosed: Bool { isClosedByUser || descriptor < 0 }

    /// "Socket(fd: 7, AF_INET, SOCK_STREAM, hub: 'io')".
    public var description: String {
        "Socket(fd: \(fileDescriptor), \(family), \(type), hub: '\(hub.name)')"
    }

    /// The error for a call made off this socket's hub.
    func wrongHub() -> WrongHubError {
        WrongHubError(what: "socket (fd \(descriptor))", hub: hub.name, callerHub: Hub.current?.name)
    }

    /// Checks the caller runs on the hub and the socket is open; returns the descriptor.
    @inline(__always)
    func liveDescriptor(_ owner: Owner = .socket) throws -> Int32 {
        guard hub.isCurrent else { throw wrongHub() }
        guard descriptor >= 0, owner == .stream || !isClosedByUser else { throw badDescriptor() }
        return descriptor
    }

    // MARK: Directions

    /// Claims the read side for one operation.
    @inline(__always)
    func beginRead(_ owner: Owner) throws {
        guard reader == nil else { throw ConcurrentUseError() }
        reader = owner
    }

    /// Claims the write side for one operation.
    @inline(__always)
    func beginWrite(_ owner: Owner) throws {
        guard writer == nil else { throw ConcurrentUseError() }
        writer = owner
    }

    /// Suspends until the socket is readable, for at most `timeout`; a zero
    /// timeout throws EAGAIN instead of waiting.
    @inline(__always)
    func waitReadable(timeout: Duration?) async throws {
        try await readWatcherForWait(timeout: timeout).wait(timeout: timeout)
    }

    /// Suspends until the socket is writable; see `waitReadable`.
    @inline(__always)
    func waitWritable(timeout: Duration?) async throws {
        try await writeWatcherForWait(timeout: timeout).wait(timeout: timeout)
    }

    /// The read watcher, made on first use; EAGAIN for a zero timeout.
    @usableFromInline @inline(never)
    func readWatcherForWait(timeout: Duration?) throws -> IOWatcher {
        if neverWaits, timeout == .zero { throw wouldBlock() }
        if let readWatcher { return readWatcher }
        let watcher = try IOWatcher(fileDescriptor: descriptor, events: .read, hub: hub)
        readWatcher = watcher
        return watcher
    }

    /// The write watcher, made on first use; EAGAIN for a zero timeout.
    @inline(never)
    func writeWatcherForWait(timeout: Duration?) throws -> IOWatcher {
        if timeout == .zero { throw wouldBlock() }
        if let writeWatcher { return writeWatcher }
        let watcher = try IOWatcher(fileDescriptor: descriptor, events: .write, hub: hub)
        writeWatcher = watcher
        return watcher
    }

    /// Runs `attempt` (one non-blocking system call; nil means "would
    /// block") holding the read side, waiting for readability between tries.
    @inline(__always)
    func readLoop<Result>(_ owner: Owner = .socket, _ attempt: (Int32) throws -> Result?) async throws -> Result {
        var fd = try liveDescriptor(owner)
        try beginRead(owner)
        defer { reader = nil }
        while true {
            if let result = try attempt(fd) { return result }
            try await waitReadable(timeout: storedTimeout)
            // The socket may have been closed while this task was suspended.
            fd = try liveDescriptor(owner)
        }
    }

    // MARK: Closing

    /// Closes the socket. Tasks waiting on it wake first, with EBADF "File
    /// descriptor was closed in another task"; then the descriptor is closed.
    /// Afterwards `fileDescriptor` is -1 and every operation throws EBADF.
    /// An open `SocketReader` or `SocketWriter` keeps the descriptor open
    /// until it is closed too. Closing twice does nothing.
    ///
    /// Called off the socket's hub, the close is handed to the hub and
    /// happens there shortly.
    public func close() {
        guard hub.isCurrent else {
            let socket = HubBound(self)
            hub.execute { try? socket.value.close() }
            return
        }
        guard !isClosedByUser, descriptor >= 0 else { return }
        isClosedByUser = true
        if openStreams == 0 {
            _ = releaseDescriptor(closing: true)
        } else {
            // Readers and writers keep the descriptor; wake only waits made
            // through the socket itself.
            if reader == .socket { readWatcher?.cancelWait() }
            if writer == .socket { writeWatcher?.cancelWait() }
        }
    }

    /// Closes the socket object but not the descriptor, and returns the
    /// descriptor, which the caller now owns. Waiting tasks wake as for
    /// `close()`; open readers and writers stop working.
    ///
    /// - Throws: EBADF if already closed; `WrongHubError` off the hub.
    public func detach() throws -> Int32 {
        _ = try liveDescriptor()
        isClosedByUser = true
        return releaseDescriptor(closing: false)
    }

    /// Wakes every waiter with EBADF, drops the watchers, then closes the
    /// descriptor (or gives it up). Hub thread only.
    func releaseDescriptor(closing: Bool) -> Int32 {
        let fd = descriptor
        // Wake and stop the watchers before the descriptor goes away: libev
        // must never watch a closed descriptor.
        if let readWatcher, readWatcher.isWaiting { readWatcher.cancelWait() }
        if let writeWatcher, writeWatcher.isWaiting { writeWatcher.cancelWait() }
        readWatcher = nil
        writeWatcher = nil
        descriptor = -1
        if closing, fd >= 0 { _ = Glibc.close(fd) }
        return fd
    }

    /// A stream opened on this socket (`makeReader`, `makeWriter`).
    func streamOpened() { openStreams += 1 }

    /// A stream closed: the last one closes a socket already closed by the user.
    func streamClosed() {
        openStreams -= 1
        if openStreams == 0, isClosedByUser, descriptor >= 0 { _ = releaseDescriptor(closing: true) }
    }

    /// A new socket on a duplicate of the descriptor, with the same timeout
    /// (`dup(2)`; the two share one open file).
    ///
    /// - Throws: EBADF if closed; `SystemError` (EMFILE) from `dup`.
    public func dup() throws -> sending Socket {
        let fd = try liveDescriptor()
        let copy = try checkedSyscall { fcntl(fd, F_DUPFD_CLOEXEC, 0) }
        return Socket(descriptor: copy, family: family, type: type, proto: proto, hub: hub, timeout: storedTimeout,
                      scratch: scratch)
    }
}
