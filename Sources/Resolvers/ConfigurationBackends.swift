import Logging

/// Makes one backend from the effective settings: the seam between the
/// configuration and the backends (tests pass one that fails on purpose).
struct BackendMaker: Sendable {
    /// Makes `kind` for `hub`, or throws why it cannot be made.
    let make: @Sendable (_ kind: ResolverKind, _ effective: EffectiveConfiguration, _ hub: Hub) throws -> any Resolver
    /// Where the resolver log goes (nil: swift-log's bootstrapped handler).
    var logHandler: (@Sendable (_ label: String) -> any LogHandler)? = nil

    /// The resolver log at `level`.
    func logger(level: Logger.Level) -> Logger {
        var logger = logHandler.map { Logger(label: Logger.evergreenResolverLabel, factory: $0) }
            ?? Logger(label: Logger.evergreenResolverLabel)
        logger.logLevel = level
        return logger
    }

    /// c-ares from `aresOptions` (which `ResolverOptions` cannot carry in
    /// full: rotate, search domains); the others through `makeResolver`.
    static let standard = BackendMaker(make: { kind, effective, hub in
        if kind == .ares { return try AresResolver(hub: hub, options: effective.aresOptions) }
        var options = ResolverOptions()
        options.threads = effective.resolverThreads
        options.queueLimit = ResolverDefaults.options.queueLimit
        return try makeResolver(kind: kind, options: options, hub: hub)
    })
}

/// Makes a hub's resolver from an effective configuration, trying the
/// backends in order and logging, like Go's `GODEBUG=netdns=1`, which one
/// was made and why the earlier ones were passed over.
enum ConfiguredResolvers {
    /// The first backend of `effective.backends` that can be made, wrapped
    /// in a `LoggingResolver` when the log level is `debug` or finer.
    ///
    /// - Throws: `ConfigurationError` (`.noUsableBackend`) listing why each failed.
    static func make(_ effective: EffectiveConfiguration, hub: Hub, maker: BackendMaker = .standard) throws -> any Resolver {
        let logger = maker.logger(level: effective.logLevel)
        let listSource = effective.source(of: .resolver)
        let list = effective.backends.map(\.rawValue).joined(separator: ", ")
        var passedOver: [String] = []
        for kind in effective.backends {
            do {
                let backend = try maker.make(kind, effective, hub)
                var why = "first that could be made of [\(list)] (\(listSource))"
                if !passedOver.isEmpty { why += "; passed over: " + passedOver.joined(separator: "; ") }
                logger.info("hub '\(hub.name)': resolver '\(kind)': \(why)",
                            metadata: ["hub": "\(hub.name)", "backend": "\(kind)", "source": "\(listSource)"])
                return effective.logLevel <= .debug ? LoggingResolver(backend, logger: logger) : backend
            } catch {
                passedOver.append("\(kind): \(error)")
                logger.info("hub '\(hub.name)': passed over resolver '\(kind)': \(error)",
                            metadata: ["hub": "\(hub.name)", "backend": "\(kind)"])
            }
        }
        throw ConfigurationError(.noUsableBackend, source: listSource, key: ConfigurationKey.resolver.rawValue, value: list,
                                 reason: "no backend could be made: " + passedOver.joined(separator: "; "))
    }
}

extension Logger {
    /// The label of Evergreen's resolver log.
    public static let evergreenResolverLabel = "evergreen.resolver"

}

/// What a hub uses when its configuration is bad and it has no resolver to
/// keep: every call throws the configuration error, so the mistake shows at
/// the first lookup instead of being replaced by defaults.
struct MisconfiguredResolver: Resolver {
    /// Why no resolver could be made.
    let error: ConfigurationError

    var name: String { "misconfigured" }

    func getaddrinfo(host: String?, port: ServicePort?, family: AddressFamily, type: SocketType,
                     proto: IPProtocol, flags: AddressInfoFlags) async throws -> [AddressInfo] { throw error }
    func gethostbyname(_ host: String) async throws -> String { throw error }
    func gethostbynameEx(_ host: String) async throws -> HostEntry { throw error }
    func gethostbyaddr(_ address: String) async throws -> HostEntry { throw error }
    func getnameinfo(_ address: SocketAddress, flags: NameInfoFlags) async throws -> (host: String, service: String) { throw error }
    func close() async {}
    func beginClose() {}
}
