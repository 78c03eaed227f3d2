/// The names of Evergreen's resolver settings: the keys of a config file,
/// the keys read from a `ConfigReader`, and (as `environmentVariable`) the
/// environment variables.
///
/// The names mirror gevent's resolver settings (`GEVENT_RESOLVER`,
/// `GEVENT_RESOLVER_NAMESERVERS`, `GEVENTARES_*`) in Evergreen's own words.
public enum ConfigurationKey: String, CaseIterable, Hashable, Sendable, CustomStringConvertible {
    /// The backends to try, in order: `ares`, `thread`, `block`.
    case resolver
    /// c-ares: the DNS servers, `IP`, `IPv4:PORT` or `[IPv6]:PORT`.
    case nameservers
    /// c-ares: seconds to wait for one try (fractions allowed, more than 0).
    case timeout
    /// c-ares: how many times each server is tried.
    case tries
    /// c-ares: names with at least this many dots are tried as given first.
    case ndots
    /// c-ares: the UDP port of servers given without one.
    case udpPort
    /// c-ares: the TCP port of servers given without one.
    case tcpPort
    /// c-ares: spread queries over the servers.
    case rotate
    /// c-ares: the domains appended to short names.
    case searchDomains
    /// c-ares: behaviour flags by name (`useTCP`, `primary`, ...).
    case flags
    /// c-ares: the most lookups handed to c-ares at once (`AresOptions.maxActiveLookups`).
    case maxActiveLookups
    /// The thread backend's pool size.
    case resolverThreads
    /// The hub's thread-pool size.
    case hubThreads
    /// The level of Evergreen's resolver log: `debug` logs every lookup,
    /// `info` which backend was made and why.
    case log

    /// The setting's name, as written in a config file.
    public var description: String { rawValue }

    /// The environment variable for this setting: `EVERGREEN_` and the name
    /// in upper snake case (`udpPort` is `EVERGREEN_UDP_PORT`), which is how
    /// swift-configuration's `EnvironmentVariablesProvider` spells the key
    /// `evergreen.udpPort`.
    public var environmentVariable: String {
        var name = "EVERGREEN_"
        for character in rawValue {
            if character.isUppercase { name.append("_") }
            name += character.uppercased()
        }
        return name
    }

    /// What a value must look like, for error messages.
    var expected: String {
        switch self {
        case .resolver: return "a list of backend names (ares, thread, block)"
        case .nameservers: return "a list of addresses: IP, IPv4:PORT or [IPv6]:PORT"
        case .timeout: return "a number of seconds"
        case .tries, .ndots, .maxActiveLookups, .resolverThreads, .hubThreads: return "a whole number"
        case .udpPort, .tcpPort: return "a port number"
        case .rotate: return "true or false"
        case .searchDomains: return "a list of domain names"
        case .flags: return "a list of flag names (\(ConfigurationKey.flagNames.map(\.name).joined(separator: ", ")))"
        case .log: return "a log level (\(ConfigurationKey.logLevelNames))"
        }
    }

    /// The c-ares flags a configuration may name.
    static let flagNames: [(flag: AresFlags, name: String)] = AresFlags.names.map { ($0.0, $0.1) }

    /// The log levels by name.
    static let logLevelNames = "trace, debug, info, notice, warning, error, critical"

    /// The key whose name is closest to `name`, when a typo is likely.
    static func suggestion(for name: String) -> ConfigurationKey? {
        guard name.utf8.count <= 64 else { return nil }
        let lowered = name.lowercased()
        let scored = allCases.map { ($0, editDistance(lowered, $0.rawValue.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(2, lowered.count / 4) else { return nil }
        return best.0
    }
}

/// The environment variables Evergreen reads besides the settings.
enum ConfigurationEnvironment {
    /// The config file to read.
    static let configFile = "EVERGREEN_CONFIG"
    /// The prefix of every Evergreen variable; an unknown one is an error.
    static let prefix = "EVERGREEN_"
    /// The scope that makes swift-configuration's environment provider read
    /// `EVERGREEN_TIMEOUT` for the key `timeout`.
    static let scope = "evergreen"

    /// Every variable Evergreen knows.
    static let known: Set<String> = Set(ConfigurationKey.allCases.map(\.environmentVariable) + [configFile])

    /// The setting a variable names, if any.
    static func key(for variable: String) -> ConfigurationKey? {
        ConfigurationKey.allCases.first { $0.environmentVariable == variable }
    }
}

/// Levenshtein distance, for "did you mean" hints on short names.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.utf8), b = Array(b.utf8)
    guard !a.isEmpty else { return b.count }
    guard !b.isEmpty else { return a.count }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
