import Logging

/// The settings in force after merging every source, and where each one
/// came from: what `evergreen config show` prints, and what a hub's
/// resolver is made from.
public struct EffectiveConfiguration: Hashable, Sendable {
    /// The backends tried when none is configured: gevent's default backend.
    public static let defaultBackends: [ResolverKind] = [.thread]
    /// The thread backend's pool size when none is configured (`ThreadResolver`'s own default).
    public static let defaultResolverThreads = ResolverOptions().threads
    /// The hub's thread-pool size when none is configured (`Hub`'s own default).
    public static let defaultHubThreads = 10
    /// The resolver log's level when none is configured: quiet.
    public static let defaultLogLevel = Logger.Level.notice

    /// The merged settings; nil fields take the defaults below (for c-ares:
    /// the system's resolv.conf). `configFile` is the file that was read.
    public let settings: ResolverConfiguration
    /// Where each setting came from.
    public let sources: [ConfigurationKey: ConfigurationSource]
    /// Who named the config file (code or `EVERGREEN_CONFIG`), if one was read.
    public let configFileSource: ConfigurationSource?

    /// Merged settings with their sources.
    public init(settings: ResolverConfiguration, sources: [ConfigurationKey: ConfigurationSource],
                configFileSource: ConfigurationSource? = nil) {
        self.settings = settings
        self.sources = sources
        self.configFileSource = configFileSource
    }

    /// The defaults alone.
    public static let defaults = EffectiveConfiguration(
        settings: ResolverConfiguration(),
        sources: Dictionary(uniqueKeysWithValues: ConfigurationKey.allCases.map { ($0, .default) }))

    /// The backends to try, in order.
    public var backends: [ResolverKind] { settings.resolver ?? Self.defaultBackends }
    /// The thread backend's pool size.
    public var resolverThreads: Int { settings.resolverThreads ?? Self.defaultResolverThreads }
    /// The hub's thread-pool size.
    public var hubThreads: Int { settings.hubThreads ?? Self.defaultHubThreads }
    /// The resolver log's level.
    public var logLevel: Logger.Level { settings.logLevel ?? Self.defaultLogLevel }
    /// The config file that was read, if any.
    public var configFile: String? { settings.configFile }

    /// The c-ares settings; what is not set here c-ares takes from resolv.conf.
    public var aresOptions: AresOptions {
        var options = AresOptions()
        options.nameservers = settings.nameservers ?? []
        options.timeout = settings.timeout
        options.tries = settings.tries
        options.ndots = settings.ndots
        options.udpPort = settings.udpPort
        options.tcpPort = settings.tcpPort
        options.rotate = settings.rotate
        options.searchDomains = settings.searchDomains
        options.flags = settings.flags ?? []
        if let window = settings.maxActiveLookups { options.maxActiveLookups = window }
        return options
    }

    /// Where `key` came from.
    public func source(of key: ConfigurationKey) -> ConfigurationSource {
        sources[key] ?? .default
    }

    /// The value of `key` as text, defaults spelled out.
    public func valueText(of key: ConfigurationKey) -> String {
        let system = "system (resolv.conf)"
        switch key {
        case .resolver: return backends.map { "\($0)" }.joined(separator: ", ")
        case .nameservers:
            guard let servers = settings.nameservers, !servers.isEmpty else { return system }
            return servers.map(\.description).joined(separator: ", ")
        case .timeout: return settings.timeout.map { "\($0.seconds) s" } ?? system
        case .tries: return settings.tries.map(String.init) ?? system
        case .ndots: return settings.ndots.map(String.init) ?? system
        case .udpPort: return String(settings.udpPort ?? 53)
        case .tcpPort: return String(settings.tcpPort ?? 53)
        case .rotate: return settings.rotate.map(String.init) ?? system
        case .searchDomains:
            guard let domains = settings.searchDomains else { return system }
            return domains.isEmpty ? "none" : domains.joined(separator: ", ")
        case .flags:
            guard let flags = settings.flags, !flags.isEmpty else { return "none" }
            return flags.description
        case .maxActiveLookups: return String(aresOptions.maxActiveLookups)
        case .resolverThreads: return String(resolverThreads)
        case .hubThreads: return String(hubThreads)
        case .log: return logLevel.rawValue
        }
    }

    /// One line per setting: name, value, source; then the config file.
    public var report: String {
        var rows = ConfigurationKey.allCases.map { [$0.rawValue, valueText(of: $0), source(of: $0).description] }
        rows.append(["config file", configFile ?? "none", configFileSource?.description ?? "-"])
        let nameWidth = rows.map { $0[0].count }.max() ?? 0
        let valueWidth = rows.map { $0[1].count }.max() ?? 0
        func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(0, width - text.count)) }
        return rows.map { pad($0[0], nameWidth) + "  " + pad($0[1], valueWidth) + "  " + $0[2] }.joined(separator: "\n")
    }
}
