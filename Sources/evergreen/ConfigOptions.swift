import ArgumentParser
import Logging
import Sockets

/// Options every `evergreen` command takes (`@OptionGroup var global: GlobalOptions`):
/// the resolver config file and the log level. Both count as settings made
/// in code, so they win over `EVERGREEN_CONFIG` and `EVERGREEN_LOG`.
struct GlobalOptions: ParsableArguments {
    @Option(name: .customLong("config"),
            help: ArgumentHelp("A resolver config file, JSON or YAML (default: $EVERGREEN_CONFIG).", valueName: "FILE"))
    var configFile: String?

    @Option(name: .customLong("log-level"),
            help: "The resolver log level: debug logs every lookup, info which backend was made and why (default: $EVERGREEN_LOG, else notice).")
    var logLevel: LogLevelChoice?

    /// The settings these options give.
    var resolverConfiguration: ResolverConfiguration {
        ResolverConfiguration(logLevel: logLevel?.level, configFile: configFile)
    }

    /// The effective settings: these options, the environment, the file, the defaults.
    ///
    /// - Throws: `ConfigurationError` naming the bad setting.
    func load() throws -> EffectiveConfiguration {
        try ConfigurationLoader(code: resolverConfiguration).load()
    }

    /// A hub whose thread pool and resolver follow the configuration, with
    /// the resolver log going to standard error.
    ///
    /// - Parameters:
    ///   - threadPoolSize: the command's own pool size, used when no source sets `hubThreads`.
    /// - Throws: `ConfigurationError` naming the bad setting.
    func makeHub(name: String, threadPoolSize: Int? = nil) throws -> Hub {
        Self.bootstrapLogging()
        var configuration = resolverConfiguration
        if let threadPoolSize, try load().source(of: .hubThreads) == .default {
            configuration.hubThreads = threadPoolSize
        }
        return try Hub.configured(name: name, configuration: configuration)
    }

    /// Sends swift-log's output to standard error (once per process: swift-log
    /// allows one bootstrap).
    static func bootstrapLogging() { _ = bootstrapped }

    private static let bootstrapped: Void = LoggingSystem.bootstrap(StreamLogHandler.standardError)
}

/// A swift-log level named on the command line.
enum LogLevelChoice: String, ExpressibleByArgument, CaseIterable {
    case trace, debug, info, notice, warning, error, critical

    /// The swift-log level.
    var level: Logger.Level { Logger.Level(rawValue: rawValue) ?? .notice }
}
