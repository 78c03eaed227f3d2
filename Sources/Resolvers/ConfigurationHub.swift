import Logging
import Synchronization

extension Hub {
    /// Makes a hub whose thread pool and resolver follow `configuration`,
    /// the environment and the config file (see `ResolverConfiguration`).
    /// The settings are read now, once; `reloadResolver()` reads them again.
    ///
    /// ```swift
    /// let hub = try Hub.configured(name: "dns", configuration: ResolverConfiguration(configFile: "dns.yaml"))
    /// ```
    ///
    /// - Parameters:
    ///   - environment: the variables to read (nil: the process's).
    /// - Throws: `ConfigurationError` for a bad setting, or when no backend
    ///   of the `resolver` list can be made; no hub is left running then.
    public static func configured(name: String = "hub", configuration: ResolverConfiguration = ResolverConfiguration(),
                                  environment: [String: String]? = nil) throws -> Hub {
        try configured(name: name, configuration: configuration, environment: environment, maker: .standard)
    }

    /// `configured`, with the backend maker tests replace.
    static func configured(name: String, configuration: ResolverConfiguration, environment: [String: String]?,
                           maker: BackendMaker) throws -> Hub {
        let slot = ConfigurationSlot(code: configuration, environment: environment, maker: maker)
        let effective = try slot.load()
        let hub = try Hub.make(name: name, threadPoolSize: effective.hubThreads)
        do {
            let resolver = try ConfiguredResolvers.make(effective, hub: hub, maker: maker)
            hub.replaceStoredValue(for: ObjectIdentifier(ConfigurationSlot.self), with: slot)
            slot.madeResolver(from: effective)
            hub.setResolver(resolver)
        } catch {
            hub.shutdown()
            throw error
        }
        return hub
    }

    /// Sets the code-level settings this hub's resolver is made from: at its
    /// first use, or at the next `reloadResolver()`. They win over
    /// `ResolverDefaults`, the environment and the file.
    ///
    /// - Parameters:
    ///   - environment: the variables to read (nil: the process's, read each time).
    public func configureResolver(_ configuration: ResolverConfiguration, environment: [String: String]? = nil) {
        configureResolver(configuration, environment: environment, maker: .standard)
    }

    /// `configureResolver`, with the backend maker tests replace.
    func configureResolver(_ configuration: ResolverConfiguration, environment: [String: String]?, maker: BackendMaker) {
        replaceStoredValue(for: ObjectIdentifier(ConfigurationSlot.self),
                           with: ConfigurationSlot(code: configuration, environment: environment, maker: maker))
    }

    /// Reads every source again and replaces the hub's resolver with one
    /// made from them. The previous resolver is not closed (lookups may
    /// still run on it); it goes away with its last reference.
    ///
    /// - Returns: the settings the new resolver was made from.
    /// - Throws: `ConfigurationError` for a bad setting or when no backend
    ///   can be made; the hub keeps its previous resolver then.
    @discardableResult
    public func reloadResolver() throws -> EffectiveConfiguration {
        let slot = configurationSlot
        let effective = try slot.load()
        let resolver = try ConfiguredResolvers.make(effective, hub: self, maker: slot.maker)
        slot.madeResolver(from: effective)
        setResolver(resolver)
        return effective
    }

    /// The settings the hub's resolver was made from, or nil when it was
    /// not made from configuration (not made yet, or set with `setResolver`).
    public var resolverConfiguration: EffectiveConfiguration? { configurationSlot.effective }

    /// The hub's configuration, made empty on first use.
    fileprivate var configurationSlot: ConfigurationSlot {
        storedValue(for: ObjectIdentifier(ConfigurationSlot.self)) { ConfigurationSlot(code: nil, environment: nil, maker: .standard) }
    }
}

/// Makes a hub's resolver at its first use (`hub.resolver`): from the hub's
/// configuration, the environment and the config file. A bad configuration
/// gives a resolver whose every call throws the `ConfigurationError` (and
/// an error in the log): never a silent switch to defaults. When the
/// settings are good but no backend of the list can be made, the hub falls
/// back to `thread`, saying so at `warning`.
func makeConfiguredResolver(for hub: Hub) -> any Resolver {
    let slot = hub.configurationSlot
    let effective: EffectiveConfiguration
    do {
        effective = try slot.load()
    } catch let error as ConfigurationError {
        slot.maker.logger(level: .error).error("hub '\(hub.name)': bad resolver configuration: \(error)")
        return MisconfiguredResolver(error: error)
    } catch {
        let wrapped = ConfigurationError(.invalidValue, source: .code, reason: "\(error)")
        return MisconfiguredResolver(error: wrapped)
    }
    do {
        let resolver = try ConfiguredResolvers.make(effective, hub: hub, maker: slot.maker)
        slot.madeResolver(from: effective)
        return resolver
    } catch {
        slot.maker.logger(level: effective.logLevel).warning("hub '\(hub.name)': \(error); using 'thread'")
        return ThreadResolver(threads: effective.resolverThreads, queueLimit: ResolverDefaults.options.queueLimit)
    }
}

/// A hub's code-level settings, the environment it reads, and what its
/// current resolver was made from.
final class ConfigurationSlot: Sendable {
    /// The hub's own settings (nil: only `ResolverDefaults`).
    let code: ResolverConfiguration?
    /// The environment to read (nil: the process's, read at each load).
    let environment: [String: String]?
    /// Makes the backends.
    let maker: BackendMaker
    private let current = Mutex<EffectiveConfiguration?>(nil)

    init(code: ResolverConfiguration?, environment: [String: String]?, maker: BackendMaker) {
        self.code = code
        self.environment = environment
        self.maker = maker
    }

    /// What the current resolver was made from.
    var effective: EffectiveConfiguration? { current.withLock { $0 } }

    func madeResolver(from effective: EffectiveConfiguration) { current.withLock { $0 = effective } }

    /// Reads every source: the hub's settings over `ResolverDefaults` as code.
    func load() throws -> EffectiveConfiguration {
        let defaults = try ResolverConfiguration(resolverDefaults: ResolverDefaults.kinds, ResolverDefaults.options)
        let code = (self.code ?? ResolverConfiguration()).overlaying(defaults)
        return try ConfigurationLoader(code: code, environment: environment).load()
    }
}

extension ResolverConfiguration {
    /// This configuration, with the settings it leaves unset taken from `lower`.
    public func overlaying(_ lower: ResolverConfiguration) -> ResolverConfiguration {
        var result = self
        for key in ConfigurationKey.allCases where !isSet(key) { result.take(key, from: lower) }
        if result.configFile == nil { result.configFile = lower.configFile }
        return result
    }

    /// The settings `ResolverDefaults` holds that differ from its initial
    /// values: they were set in code, so they count as code.
    ///
    /// - Throws: `ConfigurationError` (source `.code`) for a bad nameserver or port.
    init(resolverDefaults kinds: [ResolverKind], _ options: ResolverOptions) throws {
        self.init()
        let initial = ResolverOptions()
        if kinds != EffectiveConfiguration.defaultBackends { resolver = kinds }
        if options.threads != initial.threads { resolverThreads = options.threads }
        if !options.nameservers.isEmpty {
            nameservers = try options.nameservers.map { text in
                do { return try AresNameserver(parsing: text) } catch {
                    throw ConfigurationError(.malformedAddress, source: .code, key: ConfigurationKey.nameservers.rawValue,
                                             value: text, reason: "\(error)")
                }
            }
        }
        timeout = options.timeout
        tries = options.tries
        ndots = options.ndots
        for (key, port) in [(ConfigurationKey.udpPort, options.udpPort), (.tcpPort, options.tcpPort)] {
            guard let port else { continue }
            guard SettingRules.ports.contains(port) else {
                throw ConfigurationError(.portOutOfRange, source: .code, key: key.rawValue, value: "\(port)", reason: "a port must be 1-65535")
            }
            if key == .udpPort { udpPort = UInt16(port) } else { tcpPort = UInt16(port) }
        }
        flags = options.flags.map { AresFlags(rawValue: $0) }
    }
}
