import Configuration
@testable import Resolvers
import Testing

/// Which source wins: code, then the environment, then the file, then the
/// defaults. The environment is always an injected dictionary.
@Suite("Configuration: sources and precedence")
struct ConfigurationPrecedenceTests {
    @Test func withNothingConfiguredEverySettingIsTheDefault() throws {
        let effective = try load()
        #expect(effective.backends == [.thread])
        #expect(effective.hubThreads == 10)
        #expect(effective.resolverThreads == ResolverOptions().threads)
        #expect(effective.logLevel == .notice)
        #expect(effective.configFile == nil)
        #expect(effective.aresOptions == AresOptions())
        for key in ConfigurationKey.allCases { #expect(effective.source(of: key) == .default, "\(key)") }
    }

    @Test func aFullJSONFileSetsEverySetting() throws {
        let path = configFixture("full.json")
        let effective = try load(ResolverConfiguration(configFile: path))
        try expectFullFixture(effective, path: path)
    }

    @Test func theYAMLFileSaysTheSameAsTheJSONFile() throws {
        let json = try load(ResolverConfiguration(configFile: configFixture("full.json")))
        let yaml = try load(ResolverConfiguration(configFile: configFixture("full.yaml")))
        var fromJSON = json.settings, fromYAML = yaml.settings
        fromJSON.configFile = nil
        fromYAML.configFile = nil
        #expect(fromJSON == fromYAML)
        try expectFullFixture(yaml, path: configFixture("full.yaml"))
    }

    @Test func theMinimalExampleFromTheIssueLoads() throws {
        let effective = try load(ResolverConfiguration(configFile: configFixture("minimal.json")))
        #expect(effective.backends == [.ares, .thread])
        #expect(effective.settings.nameservers == [try AresNameserver(parsing: "127.0.0.1:5353")])
        #expect(effective.settings.timeout == .milliseconds(500))
        #expect(effective.settings.tries == 2)
        #expect(effective.source(of: .ndots) == .default)
    }

    @Test func theEnvironmentNamesTheFileWhenCodeDoesNot() throws {
        let path = configFixture("thread.yaml")
        let effective = try load(environment: ["EVERGREEN_CONFIG": path])
        #expect(effective.configFile == path)
        #expect(effective.configFileSource == .environment(variable: "EVERGREEN_CONFIG"))
        #expect(effective.resolverThreads == 2)
        #expect(effective.source(of: .resolverThreads) == .file(path: path))
    }

    @Test func aFileNamedInCodeWinsOverEVERGREEN_CONFIG() throws {
        let path = configFixture("thread.yaml")
        let effective = try load(ResolverConfiguration(configFile: path),
                                 environment: ["EVERGREEN_CONFIG": configFixture("missing.json")])
        #expect(effective.configFile == path)
        #expect(effective.configFileSource == .code)
    }

    @Test func eachSourceWinsOverTheOnesBelowIt() throws {
        let path = configFixture("full.json")   // sets every setting
        let environment = [
            "EVERGREEN_RESOLVER": "block, thread",
            "EVERGREEN_TIMEOUT": "1.5",
            "EVERGREEN_NAMESERVERS": "[::1]:53,127.0.0.2",
            "EVERGREEN_UDP_PORT": "5353",
            "EVERGREEN_ROTATE": "false",
            "EVERGREEN_SEARCH_DOMAINS": "",
            "EVERGREEN_LOG": "debug",
        ]
        var code = ResolverConfiguration(configFile: path)
        code.timeout = .milliseconds(100)
        code.hubThreads = 2
        let effective = try load(code, environment: environment)

        #expect(effective.settings.timeout == .milliseconds(100))
        #expect(effective.source(of: .timeout) == .code)
        #expect(effective.hubThreads == 2)
        #expect(effective.source(of: .hubThreads) == .code)

        #expect(effective.backends == [.block, .thread])
        #expect(effective.source(of: .resolver) == .environment(variable: "EVERGREEN_RESOLVER"))
        #expect(effective.settings.nameservers == [try AresNameserver(parsing: "[::1]:53"), try AresNameserver(parsing: "127.0.0.2")])
        #expect(effective.settings.udpPort == 5353)
        #expect(effective.source(of: .udpPort) == .environment(variable: "EVERGREEN_UDP_PORT"))
        #expect(effective.settings.rotate == false)
        #expect(effective.settings.searchDomains == [])
        #expect(effective.logLevel == .debug)

        #expect(effective.settings.tries == 3)
        #expect(effective.source(of: .tries) == .file(path: path))
        #expect(effective.settings.tcpPort == 5301)
        #expect(effective.source(of: .tcpPort) == .file(path: path))
    }

    @Test func theDefaultsFillWhatNoSourceSets() throws {
        let effective = try load(ResolverConfiguration(tries: 4), environment: ["EVERGREEN_NDOTS": "3"])
        #expect(effective.source(of: .tries) == .code)
        #expect(effective.source(of: .ndots) == .environment(variable: "EVERGREEN_NDOTS"))
        #expect(effective.source(of: .resolver) == .default)
        #expect(effective.backends == EffectiveConfiguration.defaultBackends)
        #expect(effective.valueText(of: .nameservers) == "system (resolv.conf)")
        #expect(effective.aresOptions.tries == 4)
        #expect(effective.aresOptions.ndots == 3)
        #expect(effective.aresOptions.nameservers.isEmpty)
    }

    @Test func everyEnvironmentVariableIsReadUnderItsName() throws {
        let environment = [
            "EVERGREEN_RESOLVER": "ares", "EVERGREEN_NAMESERVERS": "127.0.0.1:5353", "EVERGREEN_TIMEOUT": "0.2",
            "EVERGREEN_TRIES": "2", "EVERGREEN_NDOTS": "0", "EVERGREEN_UDP_PORT": "1053", "EVERGREEN_TCP_PORT": "1054",
            "EVERGREEN_ROTATE": "yes", "EVERGREEN_SEARCH_DOMAINS": "a.test, b.test", "EVERGREEN_FLAGS": "primary,noSearch",
            "EVERGREEN_RESOLVER_THREADS": "3", "EVERGREEN_HUB_THREADS": "5", "EVERGREEN_LOG": "info",
            "EVERGREEN_MAX_ACTIVE_LOOKUPS": "128",
        ]
        #expect(Set(environment.keys) == Set(ConfigurationKey.allCases.map(\.environmentVariable)))
        let effective = try load(environment: environment)
        for key in ConfigurationKey.allCases {
            #expect(effective.source(of: key) == .environment(variable: key.environmentVariable), "\(key)")
        }
        let options = effective.aresOptions
        #expect(options.timeout == .milliseconds(200))
        #expect(options.tries == 2 && options.ndots == 0 && options.udpPort == 1053 && options.tcpPort == 1054)
        #expect(options.rotate == true)
        #expect(options.searchDomains == ["a.test", "b.test"])
        #expect(options.flags == [.primary, .noSearch])
        #expect(options.maxActiveLookups == 128)
        #expect(effective.resolverThreads == 3 && effective.hubThreads == 5 && effective.logLevel == .info)
    }

    @Test func anApplicationFeedsItsOwnConfigReader() throws {
        let provider = InMemoryProvider(values: [
            "dns.resolver": .init(.stringArray(["ares", "block"]), isSecret: false),
            "dns.timeout": .init(.double(0.75), isSecret: false),
            "dns.udpPort": .init(.int(5353), isSecret: false),
            "other.setting": .init(.string("ignored"), isSecret: false),
        ])
        let config = ConfigReader(provider: provider)
        let fromApp = try ResolverConfiguration(config: config.scoped(to: "dns"))
        #expect(fromApp.resolver == [.ares, .block])
        #expect(fromApp.timeout == .milliseconds(750))
        #expect(fromApp.udpPort == 5353)
        #expect(fromApp.tries == nil)
        // As code, it wins over the environment.
        let effective = try load(fromApp, environment: ["EVERGREEN_TIMEOUT": "9"])
        #expect(effective.settings.timeout == .milliseconds(750))
        #expect(effective.source(of: .timeout) == .code)
    }

    @Test func aReadersWrongTypeIsAnErrorAndAMissingKeyIsNot() throws {
        // Pins how swift-configuration's "missing" is told from "wrong type".
        let config = ConfigReader(provider: InMemoryProvider(values: ["tries": .init(.string("many"), isSecret: false)]))
        let error = configurationError { _ = try ResolverConfiguration(config: config) }
        #expect(error?.kind == .wrongType)
        #expect(error?.key == "tries")
        #expect(error?.value == "many")
        let empty = ConfigReader(provider: InMemoryProvider(values: [:]))
        #expect(try ResolverConfiguration(config: empty) == ResolverConfiguration())
    }

    @Test func resolverDefaultsSetInCodeCountAsCode() throws {
        var options = ResolverOptions()
        options.threads = 3
        options.nameservers = ["127.0.0.1:5353"]
        options.udpPort = 1053
        let fromDefaults = try ResolverConfiguration(resolverDefaults: [.ares, .thread], options)
        #expect(fromDefaults.resolver == [.ares, .thread])
        #expect(fromDefaults.resolverThreads == 3)
        #expect(fromDefaults.nameservers == [try AresNameserver(parsing: "127.0.0.1:5353")])
        #expect(fromDefaults.udpPort == 1053)
        #expect(try ResolverConfiguration(resolverDefaults: [.thread], ResolverOptions()) == ResolverConfiguration())
        // A hub's own settings win over them.
        let merged = ResolverConfiguration(resolver: [.block]).overlaying(fromDefaults)
        #expect(merged.resolver == [.block])
        #expect(merged.resolverThreads == 3)
    }

    @Test func theReportListsEverySettingWithItsSource() throws {
        let path = configFixture("minimal.json")
        let effective = try load(ResolverConfiguration(hubThreads: 4, configFile: path), environment: ["EVERGREEN_TRIES": "5"])
        let lines = effective.report.split(separator: "\n").map(String.init)
        #expect(lines.count == ConfigurationKey.allCases.count + 1)
        #expect(lines.contains { $0.hasPrefix("resolver ") && $0.contains("ares, thread") && $0.hasSuffix("file \(path)") })
        #expect(lines.contains { $0.hasPrefix("tries ") && $0.contains("5") && $0.hasSuffix("environment EVERGREEN_TRIES") })
        #expect(lines.contains { $0.hasPrefix("hubThreads ") && $0.hasSuffix("code") })
        #expect(lines.contains { $0.hasPrefix("ndots ") && $0.contains("system (resolv.conf)") && $0.hasSuffix("default") })
        #expect(lines.last?.hasPrefix("config file") == true)
    }

    private func expectFullFixture(_ effective: EffectiveConfiguration, path: String) throws {
        #expect(effective.backends == [.ares, .thread, .block])
        #expect(effective.settings.nameservers?.map(\.description) == ["127.0.0.1:5353", "[::1]:5353", "192.0.2.53"])
        #expect(effective.settings.timeout == .milliseconds(250))
        #expect(effective.settings.tries == 3)
        #expect(effective.settings.ndots == 2)
        #expect(effective.settings.udpPort == 5300)
        #expect(effective.settings.tcpPort == 5301)
        #expect(effective.settings.rotate == true)
        #expect(effective.settings.searchDomains == ["evergreen.test", "example.test"])
        #expect(effective.settings.flags == [.useTCP, .edns])
        #expect(effective.aresOptions.maxActiveLookups == 32)
        #expect(effective.resolverThreads == 4)
        #expect(effective.hubThreads == 6)
        #expect(effective.logLevel == .info)
        for key in ConfigurationKey.allCases { #expect(effective.source(of: key) == .file(path: path), "\(key)") }
        #expect(effective.configFileSource == .code)
    }
}
