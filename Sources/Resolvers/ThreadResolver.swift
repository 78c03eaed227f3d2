import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The `thread` backend (the default): the C library's calls made on a
/// thread pool of the resolver's own, results delivered back on the calling
/// task's hub. Results and errors are exactly the system's; the hub keeps
/// running while a lookup waits.
///
/// - Cancelling the waiting task (or an enclosing `withTimeout`) returns at
///   once with `CancellationError` (`TimeoutError`); the abandoned call
///   finishes on its thread in the background and its result is dropped.
/// - The pool has a fixed number of threads and a bounded queue: it never
///   grows. Beyond the queue limit a lookup throws `HubError.saturated`.
/// - IP literals, numeric ports and the special names are answered by the
///   shared front end without touching the pool.
public final class ThreadResolver: Resolver, ResolverBackend, Sendable {
    /// "thread".
    public var name: String { Self.kind.rawValue }
    /// `.thread`.
    public static var kind: ResolverKind { .thread }

    /// The most lookups that run at once (the pool's threads).
    public let threads: Int
    /// Whether the pool's threads keep their UDP sockets to the name servers
    /// open between lookups (`ResolverSocketReuse`).
    public let reusesSockets: Bool
    /// The pool the lookups run on; its threads start on demand.
    let pool: ThreadPool

    private struct State {
        var closed = false
        /// Calls between `enter` and `leave`.
        var inFlight = 0
        var poolStopping = false
        var poolStopped = false
        var closeWaiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())
    private var lookups: SystemLookups<PoolRunner> { SystemLookups(runner: PoolRunner(resolver: self)) }

    /// Makes a resolver with its own pool.
    ///
    /// - Parameters:
    ///   - threads: the most lookups running at once (at least 1; default 16).
    ///   - queueLimit: the most lookups waiting for a thread (at least 1).
    ///   - reusesSockets: keep each thread's UDP sockets to the name servers
    ///     open between lookups (`RES_STAYOPEN`; same answers, fewer system calls).
    public init(threads: Int = 16, queueLimit: Int = 100_000, reusesSockets: Bool = true) {
        self.threads = max(1, threads)
        self.reusesSockets = reusesSockets
        self.pool = ThreadPool(threads: self.threads, queueLimit: queueLimit, name: "evg-resolver")
    }

    /// Makes the resolver `options` describe (`threads`, `queueLimit`, `reusesSockets`).
    public static func make(options: ResolverOptions, hub: Hub?) throws -> ThreadResolver {
        ThreadResolver(threads: options.threads, queueLimit: options.queueLimit, reusesSockets: options.reusesSockets)
    }

    deinit {
        // Nothing can call in any more; let the idle threads go (joined off
        // this thread, which may be a hub's).
        guard !state.withLock({ $0.poolStopping }) else { return }
        let pool = self.pool
        if pool.threadCount == 0 { pool.shutdown() } else { runOnNewThread { pool.shutdown() } }
    }

    /// `getaddrinfo(3)` on the pool, after the shared checks.
    public func getaddrinfo(host: String?, port: ServicePort?, family: AddressFamily, type: SocketType,
                            proto: IPProtocol, flags: AddressInfoFlags) async throws -> [AddressInfo] {
        try checkOpen()
        return try await lookups.getaddrinfo(host: host, port: port, family: family, type: type, proto: proto, flags: flags)
    }

    /// The first IPv4 address of `host`, looked up on the pool.
    public func gethostbyname(_ host: String) async throws -> String {
        try checkOpen()
        return try await lookups.gethostbyname(host)
    }

    /// `gethostbyname_r(3)` on the pool, after the shared checks.
    public func gethostbynameEx(_ host: String) async throws -> HostEntry {
        try checkOpen()
        return try await lookups.gethostbynameEx(host)
    }

    /// `gethostbyaddr_r(3)` on the pool, after the shared checks.
    public func gethostbyaddr(_ address: String) async throws -> HostEntry {
        try checkOpen()
        return try await lookups.gethostbyaddr(address)
    }

    /// `getnameinfo(3)` on the pool, after the shared checks.
    public func getnameinfo(_ address: SocketAddress, flags: NameInfoFlags) async throws -> (host: String, service: String) {
        try checkOpen()
        return try await lookups.getnameinfo(address, flags: flags)
    }

    /// Closes the resolver and waits until its threads have exited. Later
    /// calls throw `ResolverClosedError`; calls already waiting finish first.
    public func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = state.withLock { state -> Bool in
                state.closed = true
                if state.poolStopped { return true }
                state.closeWaiters.append(continuation)
                return false
            }
            if done { continuation.resume() } else { stopPoolIfIdle() }
        }
    }

    /// Closes the resolver without waiting: later calls throw
    /// `ResolverClosedError`, calls already waiting finish, then the
    /// threads exit (never joined on the calling thread).
    public func beginClose() {
        state.withLock { $0.closed = true }
        stopPoolIfIdle()
    }

    /// Whether `close()` or `beginClose()` was called.
    public var isClosed: Bool { state.withLock { $0.closed } }

    private func checkOpen() throws {
        if isClosed { throw ResolverClosedError(resolver: name) }
    }

    // MARK: Pool plumbing

    /// Runs `work` on the pool, counted as in flight.
    func runOnPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try state.withLock { state in
            guard !state.closed else { throw ResolverClosedError(resolver: "thread") }
            state.inFlight += 1
        }
        defer {
            state.withLock { $0.inFlight -= 1 }
            stopPoolIfIdle()
        }
        do {
            return try await pool.run(work)
        } catch HubError.shutDown(let hub) where hub == pool.name && isClosed {
            throw ResolverClosedError(resolver: name)
        }
    }

    /// Once closed and idle, shuts the pool down on a thread of its own:
    /// joining waits for abandoned calls, which must not block a hub.
    private func stopPoolIfIdle() {
        let start = state.withLock { state -> Bool in
            guard state.closed, state.inFlight == 0, !state.poolStopping else { return false }
            state.poolStopping = true
            return true
        }
        guard start else { return }
        let pool = self.pool
        let finished: @Sendable () -> Void = { [state = StateRef(self)] in state.poolDidStop() }
        runOnNewThread {
            pool.shutdown()
            finished()
        }
    }

    fileprivate func poolDidStop() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.poolStopped = true
            defer { state.closeWaiters.removeAll() }
            return state.closeWaiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// Keeps a closing resolver alive until its pool has stopped.
private struct StateRef: Sendable {
    let resolver: ThreadResolver
    init(_ resolver: ThreadResolver) { self.resolver = resolver }
    func poolDidStop() { resolver.poolDidStop() }
}

/// Runs blocking work on a `ThreadResolver`'s pool.
struct PoolRunner: BlockingRunner {
    let resolver: ThreadResolver

    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        guard resolver.reusesSockets else { return try await resolver.runOnPool(work) }
        return try await resolver.runOnPool {
            ResolverSocketReuse.enableForCurrentThread()
            return try work()
        }
    }
}

/// Runs `body` on a new detached thread.
func runOnNewThread(_ body: @escaping @Sendable () -> Void) {
    final class Box {
        let body: @Sendable () -> Void
        init(_ body: @escaping @Sendable () -> Void) { self.body = body }
    }
    let box = Unmanaged.passRetained(Box(body)).toOpaque()
    var thread = pthread_t()
    let rc = pthread_create(&thread, nil, { raw in
        let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
        box.body()
        return nil
    }, box)
    if rc == 0 {
        pthread_detach(thread)
    } else {
        // No thread to be had: do it here rather than never.
        Unmanaged<Box>.fromOpaque(box).takeRetainedValue().body()
    }
}
