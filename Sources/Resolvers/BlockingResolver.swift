import Synchronization

/// The `block` backend: the C library called directly on the caller's
/// thread. Results and errors are exactly the system's.
///
/// A lookup **blocks the thread it runs on**: on a hub that is the whole hub,
/// every task on it, for as long as DNS takes (seconds when a server does not
/// answer). Use it where that does not matter (tools, tests, a hub of its
/// own) or as the reference the other backends are compared with.
public final class BlockingResolver: Resolver, ResolverBackend, Sendable {
    /// "block".
    public var name: String { Self.kind.rawValue }
    /// `.block`.
    public static var kind: ResolverKind { .block }

    private let closed = Atomic<Bool>(false)
    private let lookups = SystemLookups(runner: InlineRunner())

    /// Makes the resolver; it holds no resources.
    public init() {}

    /// Makes the resolver (for `makeResolver`; it takes no options).
    public static func make(options: ResolverOptions, hub: Hub?) throws -> BlockingResolver { BlockingResolver() }

    /// `getaddrinfo(3)` on the calling thread, after the shared checks.
    public func getaddrinfo(host: String?, port: ServicePort?, family: AddressFamily, type: SocketType,
                            proto: IPProtocol, flags: AddressInfoFlags) async throws -> [AddressInfo] {
        try checkOpen()
        return try await lookups.getaddrinfo(host: host, port: port, family: family, type: type, proto: proto, flags: flags)
    }

    /// The first IPv4 address of `host`, looked up on the calling thread.
    public func gethostbyname(_ host: String) async throws -> String {
        try checkOpen()
        return try await lookups.gethostbyname(host)
    }

    /// `gethostbyname_r(3)` on the calling thread, after the shared checks.
    public func gethostbynameEx(_ host: String) async throws -> HostEntry {
        try checkOpen()
        return try await lookups.gethostbynameEx(host)
    }

    /// `gethostbyaddr_r(3)` on the calling thread, after the shared checks.
    public func gethostbyaddr(_ address: String) async throws -> HostEntry {
        try checkOpen()
        return try await lookups.gethostbyaddr(address)
    }

    /// `getnameinfo(3)` on the calling thread, after the shared checks.
    public func getnameinfo(_ address: SocketAddress, flags: NameInfoFlags) async throws -> (host: String, service: String) {
        try checkOpen()
        return try await lookups.getnameinfo(address, flags: flags)
    }

    /// Marks the resolver closed: later calls throw `ResolverClosedError`.
    public func close() async { beginClose() }

    /// Marks the resolver closed at once.
    public func beginClose() { closed.store(true, ordering: .releasing) }

    private func checkOpen() throws {
        if closed.load(ordering: .acquiring) { throw ResolverClosedError(resolver: name) }
    }
}

/// Runs blocking work right where it is called.
struct InlineRunner: BlockingRunner {
    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try work()
    }
}
