import Synchronization

/// A resolver backend by name: "block", "thread" or "ares".
///
/// Every name is known here, so configuration and the command line can name
/// any backend; `makeResolver` says clearly when this build cannot make one.
public struct ResolverKind: RawRepresentable, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// The name.
    public let rawValue: String
    /// Wraps a name (any text; unknown names fail in `makeResolver`).
    public init(rawValue: String) { self.rawValue = rawValue }

    /// `BlockingResolver`: the C library on the caller's thread.
    public static let block = ResolverKind(rawValue: "block")
    /// `ThreadResolver`: the C library on a thread pool (the default).
    public static let thread = ResolverKind(rawValue: "thread")
    /// The c-ares backend, driven by the hub's loop.
    public static let ares = ResolverKind(rawValue: "ares")

    /// Every backend name, available in this build or not.
    public static let allCases: [ResolverKind] = [.block, .thread, .ares]

    /// The backends this build can make.
    public static var available: [ResolverKind] { resolverBackends.map { $0.kind } }

    /// The name.
    public var description: String { rawValue }
}

/// The backends `makeResolver` can make. To wire in a new backend, conform
/// it to `ResolverBackend` and add its type here (one line).
let resolverBackends: [any ResolverBackend.Type] = [BlockingResolver.self, ThreadResolver.self, AresResolver.self]

/// A resolver that `makeResolver` can make by kind.
public protocol ResolverBackend: Resolver {
    /// The backend's kind.
    static var kind: ResolverKind { get }
    /// Makes a resolver from `options`, for `hub` (nil: the current hub,
    /// else `Hub.default`, for a backend that needs a loop).
    static func make(options: ResolverOptions, hub: Hub?) throws -> Self
}

/// Settings a backend may read when `makeResolver` makes it. Each backend
/// reads its own and ignores the rest.
public struct ResolverOptions: Sendable, Equatable {
    /// `thread`: threads in the resolver's pool (default 16).
    public var threads: Int = 16
    /// `thread`: the most lookups waiting for a thread.
    public var queueLimit: Int = 100_000
    /// `thread`: keep each pool thread's UDP sockets to the name servers open
    /// between lookups (see `ResolverSocketReuse`).
    public var reusesSockets = true
    /// `ares`: DNS servers ("127.0.0.1", "[::1]:5353", ...); empty means the system's.
    public var nameservers: [String] = []
    /// `ares`: the time one query waits for an answer.
    public var timeout: Duration?
    /// `ares`: tries per server.
    public var tries: Int?
    /// `ares`: dots that make a name absolute before the search list.
    public var ndots: Int?
    /// `ares`: the UDP port of the servers.
    public var udpPort: Int?
    /// `ares`: the TCP port of the servers.
    public var tcpPort: Int?
    /// `ares`: `ARES_FLAG_*` bits.
    public var flags: Int32?

    /// The defaults.
    public init() {}
}

/// Makes a resolver of `kind`.
///
/// - Throws: `ResolverUnavailableError` when this build has no such backend,
///   or what the backend throws while starting.
public func makeResolver(kind: ResolverKind, options: ResolverOptions = ResolverOptions(), hub: Hub? = nil) throws -> any Resolver {
    guard let backend = resolverBackends.first(where: { $0.kind == kind }) else {
        let reason = ResolverKind.allCases.contains(kind)
            ? "not in this build yet (\(kind == .ares ? "AresResolver" : "its type") is not registered in resolverBackends)"
            : "unknown name; known: \(ResolverKind.allCases.map(\.rawValue).joined(separator: ", "))"
        throw ResolverUnavailableError(kind: kind, reason: reason)
    }
    return try backend.make(options: options, hub: hub)
}

/// Makes the first resolver of `kinds` that can be made, as gevent tries its
/// resolver list in order.
///
/// - Throws: the last error when none can be made; `InvalidArgument` for an empty list.
public func makeResolver(preferring kinds: [ResolverKind], options: ResolverOptions = ResolverOptions(),
                         hub: Hub? = nil) throws -> any Resolver {
    var lastError: any Error = InvalidArgument("no resolver kinds given")
    for kind in kinds {
        do { return try makeResolver(kind: kind, options: options, hub: hub) } catch { lastError = error }
    }
    throw lastError
}

/// What a hub makes its resolver from, on first use: a process-wide setting
/// for the configuration layer (environment, config files) to fill in.
public enum ResolverDefaults {
    private struct Settings: Sendable {
        var kinds: [ResolverKind] = [.thread]
        var options = ResolverOptions()
    }

    private static let settings = Mutex(Settings())

    /// The backends a hub tries, in order (default `[.thread]`). A hub that
    /// can make none of them falls back to `thread`.
    public static var kinds: [ResolverKind] {
        get { settings.withLock { $0.kinds } }
        set { settings.withLock { $0.kinds = newValue } }
    }

    /// The options a hub makes its resolver with.
    public static var options: ResolverOptions {
        get { settings.withLock { $0.options } }
        set { settings.withLock { $0.options = newValue } }
    }
}
