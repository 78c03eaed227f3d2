import Configuration
import Logging

/// How a hub's resolver is chosen and tuned: the backends to try and their
/// settings. Every field left `nil` is taken from the next source down:
///
/// 1. code: this value, passed to `ConfigurationLoader` (or `Hub.configured`);
/// 2. the environment: `EVERGREEN_RESOLVER=ares,thread`, `EVERGREEN_TIMEOUT=0.5`,
///    one variable per setting (`ConfigurationKey.environmentVariable`);
/// 3. a JSON or YAML config file: `configFile`, else `EVERGREEN_CONFIG`;
/// 4. defaults (`thread`), and for c-ares the system's resolv.conf.
///
/// ```swift
/// var configuration = ResolverConfiguration()
/// configuration.resolver = [.ares, .thread]
/// configuration.nameservers = [try AresNameserver(parsing: "127.0.0.1:5353")]
/// configuration.timeout = .milliseconds(500)
/// let effective = try ConfigurationLoader(code: configuration).load()
/// ```
///
/// A library convention of the Swift server ecosystem is to take a
/// `ConfigReader`: `ResolverConfiguration(config:)` reads the same keys from
/// an application's own configuration.
public struct ResolverConfiguration: Hashable, Sendable {
    /// The backends to try, in order; the first that can be made wins.
    public var resolver: [ResolverKind]?
    /// c-ares: the DNS servers. Empty or nil: resolv.conf's.
    public var nameservers: [AresNameserver]?
    /// c-ares: how long to wait for one try; more than zero, sub-second allowed.
    public var timeout: Duration?
    /// c-ares: how many times each server is tried (1...1000).
    public var tries: Int?
    /// c-ares: names with at least this many dots are tried as given first (0...255).
    public var ndots: Int?
    /// c-ares: the UDP port of servers given without one (1...65535).
    public var udpPort: UInt16?
    /// c-ares: the TCP port of servers given without one (1...65535).
    public var tcpPort: UInt16?
    /// c-ares: spread queries over the servers.
    public var rotate: Bool?
    /// c-ares: the domains appended to short names; `[]` for none.
    public var searchDomains: [String]?
    /// c-ares: behaviour flags.
    public var flags: AresFlags?
    /// c-ares: the most lookups handed to c-ares at once (1...1,000,000;
    /// default 64); see `AresOptions.maxActiveLookups`.
    public var maxActiveLookups: Int?
    /// The thread backend's pool size (1...1024).
    public var resolverThreads: Int?
    /// The hub's thread-pool size (1...1024), used by `Hub.configured`.
    public var hubThreads: Int?
    /// The level of the `evergreen.resolver` log (default `.notice`: quiet).
    public var logLevel: Logger.Level?
    /// The config file to read (JSON or YAML); wins over `EVERGREEN_CONFIG`.
    public var configFile: String?

    /// A configuration that sets nothing: every setting comes from the
    /// environment, the config file or the defaults.
    public init() {}

    /// A configuration with the given settings; the rest come from lower sources.
    public init(resolver: [ResolverKind]? = nil, nameservers: [AresNameserver]? = nil, timeout: Duration? = nil,
                tries: Int? = nil, ndots: Int? = nil, udpPort: UInt16? = nil, tcpPort: UInt16? = nil,
                rotate: Bool? = nil, searchDomains: [String]? = nil, flags: AresFlags? = nil,
                resolverThreads: Int? = nil, hubThreads: Int? = nil, logLevel: Logger.Level? = nil,
                configFile: String? = nil) {
        self.resolver = resolver
        self.nameservers = nameservers
        self.timeout = timeout
        self.tries = tries
        self.ndots = ndots
        self.udpPort = udpPort
        self.tcpPort = tcpPort
        self.rotate = rotate
        self.searchDomains = searchDomains
        self.flags = flags
        self.resolverThreads = resolverThreads
        self.hubThreads = hubThreads
        self.logLevel = logLevel
        self.configFile = configFile
    }

    /// Reads the settings from an application's configuration. Keys are the
    /// setting names (`ConfigurationKey`) relative to `config`, so scope it
    /// first if they live under a prefix: `config.scoped(to: "dns")`. Lists
    /// may be arrays or comma-separated text.
    ///
    /// - Throws: `ConfigurationError` naming the key and the bad value
    ///   (unknown keys cannot be detected through a `ConfigReader`).
    public init(config: ConfigReader) throws {
        self = try ConfigurationLayer(reader: config, source: { _ in .reader(name: "\(config)") }).read()
    }

    /// Whether the setting `key` is set here.
    public func isSet(_ key: ConfigurationKey) -> Bool {
        switch key {
        case .resolver: return resolver != nil
        case .nameservers: return nameservers != nil
        case .timeout: return timeout != nil
        case .tries: return tries != nil
        case .ndots: return ndots != nil
        case .udpPort: return udpPort != nil
        case .tcpPort: return tcpPort != nil
        case .rotate: return rotate != nil
        case .searchDomains: return searchDomains != nil
        case .flags: return flags != nil
        case .maxActiveLookups: return maxActiveLookups != nil
        case .resolverThreads: return resolverThreads != nil
        case .hubThreads: return hubThreads != nil
        case .log: return logLevel != nil
        }
    }

    /// Copies the setting `key` from `other`.
    mutating func take(_ key: ConfigurationKey, from other: ResolverConfiguration) {
        switch key {
        case .resolver: resolver = other.resolver
        case .nameservers: nameservers = other.nameservers
        case .timeout: timeout = other.timeout
        case .tries: tries = other.tries
        case .ndots: ndots = other.ndots
        case .udpPort: udpPort = other.udpPort
        case .tcpPort: tcpPort = other.tcpPort
        case .rotate: rotate = other.rotate
        case .searchDomains: searchDomains = other.searchDomains
        case .flags: flags = other.flags
        case .maxActiveLookups: maxActiveLookups = other.maxActiveLookups
        case .resolverThreads: resolverThreads = other.resolverThreads
        case .hubThreads: hubThreads = other.hubThreads
        case .log: logLevel = other.logLevel
        }
    }

    /// Checks the values set in code with the same rules as a file's.
    ///
    /// - Throws: `ConfigurationError` with source `.code`.
    public func validate() throws {
        func check(_ key: ConfigurationKey, _ value: String, _ test: () -> String?) throws {
            if let reason = test() { throw ConfigurationError(.invalidValue, source: .code, key: key.rawValue, value: value, reason: reason) }
        }
        if let resolver {
            try check(.resolver, "", { resolver.isEmpty ? "the list of backends is empty" : nil })
            for kind in resolver where !ResolverKind.allCases.contains(kind) {
                throw ConfigurationError(.unknownBackend, source: .code, key: ConfigurationKey.resolver.rawValue,
                                         value: kind.rawValue, reason: "unknown backend (expected ares, thread or block)")
            }
            if let twice = duplicate(in: resolver) {
                try check(.resolver, "\(twice)", { "backend '\(twice)' is listed twice" })
            }
        }
        if let timeout {
            try check(.timeout, "\(timeout)", { SettingRules.timeoutProblem(seconds: timeout.seconds) })
        }
        if let tries { try check(.tries, "\(tries)", { SettingRules.rangeProblem(tries, SettingRules.tries, what: "tries") }) }
        if let ndots { try check(.ndots, "\(ndots)", { SettingRules.rangeProblem(ndots, SettingRules.ndots, what: "ndots") }) }
        for (key, port) in [(ConfigurationKey.udpPort, udpPort), (.tcpPort, tcpPort)] where port == 0 {
            throw ConfigurationError(.portOutOfRange, source: .code, key: key.rawValue, value: "0", reason: "a port must be 1-65535")
        }
        for domain in searchDomains ?? [] {
            try check(.searchDomains, domain, { SettingRules.domainProblem(domain) })
        }
        if let maxActiveLookups {
            try check(.maxActiveLookups, "\(maxActiveLookups)", {
                SettingRules.rangeProblem(maxActiveLookups, SettingRules.activeLookups, what: "maxActiveLookups")
            })
        }
        if let resolverThreads {
            try check(.resolverThreads, "\(resolverThreads)", { SettingRules.rangeProblem(resolverThreads, SettingRules.threads, what: "resolverThreads") })
        }
        if let hubThreads {
            try check(.hubThreads, "\(hubThreads)", { SettingRules.rangeProblem(hubThreads, SettingRules.threads, what: "hubThreads") })
        }
        if let configFile, configFile.isEmpty {
            throw ConfigurationError(.invalidValue, source: .code, key: "configFile", value: "", reason: "the config file path is empty")
        }
    }
}

/// The allowed ranges, shared by code, environment and file values.
enum SettingRules {
    static let tries = 1...1000
    static let ndots = 0...255
    static let ports = 1...65535
    static let threads = 1...1024
    static let activeLookups = 1...1_000_000
    /// c-ares takes the timeout in milliseconds as an `Int32`.
    static let maximumTimeoutSeconds = Double(Int32.max / 1000)

    static func timeoutProblem(seconds: Double) -> String? {
        guard seconds.isFinite else { return "the timeout must be a finite number of seconds" }
        guard seconds > 0 else { return "the timeout must be more than 0 seconds" }
        guard seconds <= maximumTimeoutSeconds else { return "the timeout must be at most \(Int(maximumTimeoutSeconds)) seconds" }
        return nil
    }

    static func rangeProblem(_ value: Int, _ range: ClosedRange<Int>, what: String) -> String? {
        range.contains(value) ? nil : "\(what) must be \(range.lowerBound)-\(range.upperBound)"
    }

    static func domainProblem(_ domain: String) -> String? {
        if domain.isEmpty { return "a search domain must not be empty" }
        if domain.utf8.contains(where: { $0 <= 32 || $0 == 127 }) { return "a search domain must not contain spaces or control characters" }
        if domain.utf8.count > 253 { return "a search domain must be at most 253 characters (got \(domain.utf8.count))" }
        if domain.split(separator: ".", omittingEmptySubsequences: false).contains(where: { $0.utf8.count > 63 }) {
            return "a search domain's labels must be at most 63 characters"
        }
        return nil
    }
}

extension Duration {
    /// The duration in seconds, fractions included.
    var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) / 1e18
    }
}

/// The first element that occurs twice.
func duplicate<T: Hashable>(in list: [T]) -> T? {
    var seen = Set<T>()
    return list.first { !seen.insert($0).inserted }
}
