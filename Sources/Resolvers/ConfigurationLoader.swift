import Configuration
#if canImport(Glibc)
import Glibc
#endif

/// Gathers the resolver settings from their four sources, highest first:
/// code (`code`), the environment (`EVERGREEN_*`), a config file (the path
/// in `code.configFile`, else `EVERGREEN_CONFIG`), and the defaults.
///
/// Every source is read and checked in full on each `load()`, so a bad value
/// anywhere is an error even when a higher source overrides it: a typo
/// never hides until the day it starts to matter.
///
/// ```swift
/// let effective = try ConfigurationLoader(code: ResolverConfiguration(configFile: "dns.yaml")).load()
/// print(effective.backends, effective.source(of: .timeout))
/// ```
public struct ConfigurationLoader: Sendable {
    /// The largest config file read: 1 MiB.
    public static let maximumFileSize = 1 << 20
    /// The deepest nesting a config file may have (a valid one needs 2).
    public static let maximumNesting = 16

    /// Settings given in code; they win over every other source.
    public var code: ResolverConfiguration
    /// The environment to read `EVERGREEN_*` from. Pass a dictionary in
    /// tests instead of changing the process's environment.
    public var environment: [String: String]

    /// A loader for `code` over `environment` (nil: the process's environment,
    /// read now).
    public init(code: ResolverConfiguration = ResolverConfiguration(), environment: [String: String]? = nil) {
        self.code = code
        self.environment = environment ?? Self.processEnvironment()
    }

    /// Reads, checks and merges every source.
    ///
    /// - Throws: `ConfigurationError` naming the source, key and value of the
    ///   first bad setting.
    public func load() throws -> EffectiveConfiguration {
        try code.validate()
        let ours = environment.filter { $0.key.hasPrefix(ConfigurationEnvironment.prefix) }
        let fromEnvironment = try readEnvironment(ours)

        var file: (path: String, source: ConfigurationSource)?
        if let path = code.configFile {
            file = (path, .code)
        } else if let path = ours[ConfigurationEnvironment.configFile] {
            let source = ConfigurationSource.environment(variable: ConfigurationEnvironment.configFile)
            guard !path.isEmpty else {
                throw ConfigurationError(.invalidValue, source: source, key: "config", value: "", reason: "the config file path is empty")
            }
            file = (path, source)
        }
        var fromFile = ResolverConfiguration()
        if let file {
            fromFile = try ConfigurationFile.load(path: file.path, maximumSize: Self.maximumFileSize,
                                                  maximumNesting: Self.maximumNesting).read()
        }

        var merged = ResolverConfiguration()
        merged.configFile = file?.path
        var sources: [ConfigurationKey: ConfigurationSource] = [:]
        for key in ConfigurationKey.allCases {
            if code.isSet(key) {
                merged.take(key, from: code)
                sources[key] = .code
            } else if fromEnvironment.isSet(key) {
                merged.take(key, from: fromEnvironment)
                sources[key] = .environment(variable: key.environmentVariable)
            } else if let file, fromFile.isSet(key) {
                merged.take(key, from: fromFile)
                sources[key] = .file(path: file.path)
            } else {
                sources[key] = .default
            }
        }
        return EffectiveConfiguration(settings: merged, sources: sources, configFileSource: file?.source)
    }

    /// The `EVERGREEN_*` settings, read through swift-configuration's
    /// environment provider (`timeout` is `EVERGREEN_TIMEOUT`).
    private func readEnvironment(_ variables: [String: String]) throws -> ResolverConfiguration {
        for name in variables.keys.sorted() where !ConfigurationEnvironment.known.contains(name) {
            var reason = "unknown setting"
            let setting = name.dropFirst(ConfigurationEnvironment.prefix.count).replacingUnderscores()
            if let hint = ConfigurationKey.suggestion(for: setting) { reason += " (did you mean \(hint.environmentVariable)?)" }
            throw ConfigurationError(.unknownKey, source: .environment(variable: name), key: name, value: variables[name], reason: reason)
        }
        let settings = variables.filter { $0.key != ConfigurationEnvironment.configFile }
        guard !settings.isEmpty else { return ResolverConfiguration() }
        let reader = ConfigReader(provider: EnvironmentVariablesProvider(environmentVariables: settings))
            .scoped(to: ConfigKey([ConfigurationEnvironment.scope]))
        return try ConfigurationLayer(reader: reader, source: { .environment(variable: $0.environmentVariable) }).read()
    }

    /// A copy of the process's environment.
    static func processEnvironment() -> [String: String] {
        var result: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            entry += 1
        }
        return result
    }
}

extension Substring {
    /// `UDP_PORT` as `udpport`, to match against setting names for hints.
    fileprivate func replacingUnderscores() -> String {
        lowercased().filter { $0 != "_" }
    }
}
