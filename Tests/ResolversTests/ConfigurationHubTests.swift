@testable import Resolvers
import Logging
import Testing

/// Configuration applied to hubs: which backend is made, fallback, reload,
/// and c-ares really asking the configured (loopback) server.
@Suite("Configuration: hubs and backends", .timeLimit(.minutes(1)))
struct ConfigurationHubTests {
    @Test func aConfigFileSelectingAresSendsTheQueriesToItsNameserver() async throws {
        let server = try FakeDNSServer()
        defer { server.stop() }
        try await withConfigDirectory { directory in
            let path = try directory.write("ares.json", """
                {"resolver": ["ares"], "nameservers": ["\(server.address)"], "timeout": 0.3, "tries": 1,
                 "ndots": 1, "searchDomains": []}
                """)
            let hub = try Hub.configured(name: "config-ares", configuration: ResolverConfiguration(configFile: path), environment: [:])
            defer { hub.shutdown() }
            #expect(hub.resolver is AresResolver)
            let results = try await hub.resolver.getaddrinfo(host: "ok.fake.test", family: .inet, type: .stream)
            #expect(results.map(\.address) == [.inet(host: "192.0.2.1", port: 0)])
            #expect(server.count(of: "ok.fake.test") >= 1)
            // `tries: 1` reached c-ares: a silent server is asked once.
            await #expect(throws: AddressInfoError.self) {
                try await hub.resolver.getaddrinfo(host: "silent.fake.test", family: .inet)
            }
            #expect(server.count(of: "silent.fake.test") == 1)
        }
    }

    @Test func udpPortFromTheEnvironmentReachesServersGivenWithoutAPort() async throws {
        let server = try FakeDNSServer()
        defer { server.stop() }
        let environment = ["EVERGREEN_RESOLVER": "ares", "EVERGREEN_NAMESERVERS": "127.0.0.1",
                           "EVERGREEN_UDP_PORT": "\(server.port)", "EVERGREEN_TCP_PORT": "\(server.port)",
                           "EVERGREEN_TIMEOUT": "0.5", "EVERGREEN_SEARCH_DOMAINS": ""]
        let hub = try Hub.configured(name: "config-port", environment: environment)
        defer { hub.shutdown() }
        let results = try await hub.resolver.getaddrinfo(host: "n42.fake.test", family: .inet, type: .stream)
        #expect(results.map(\.address) == [.inet(host: "192.0.2.42", port: 0)])
        #expect(server.count(of: "n42.fake.test") == 1)
    }

    @Test func whenTheFirstBackendCannotBeMadeTheNextOneWinsAndTheLogSaysWhy() throws {
        let lines = RecordingLogHandler.Lines()
        let hub = try Hub.configured(name: "config-fallback", configuration: ResolverConfiguration(resolver: [.ares, .block]),
                                     environment: ["EVERGREEN_LOG": "info"], maker: testMaker(refusing: [.ares], lines: lines))
        defer { hub.shutdown() }
        #expect(hub.resolver is BlockingResolver)
        let info = lines.texts(at: .info)
        #expect(info.contains("hub 'config-fallback': passed over resolver 'ares': ares is broken for this test"))
        #expect(info.contains("hub 'config-fallback': resolver 'block': first that could be made of [ares, block] (code); "
                              + "passed over: ares: ares is broken for this test"))
    }

    @Test func whenNoBackendCanBeMadeConfiguringTheHubThrows() {
        let error = configurationError {
            _ = try Hub.configured(name: "config-none", configuration: ResolverConfiguration(resolver: [.ares, .thread]),
                                   environment: ["EVERGREEN_RESOLVER": "block"], maker: testMaker(refusing: [.ares, .thread]))
        }
        #expect(error?.kind == .noUsableBackend)
        #expect(error?.source == .code)
        #expect(error?.description == "code setting, key 'resolver', value 'ares, thread': no backend could be made: "
                + "ares: ares is broken for this test; thread: thread is broken for this test")
    }

    @Test func aBadConfigurationMakesNoHub() {
        let error = configurationError {
            _ = try Hub.configured(name: "config-bad", environment: ["EVERGREEN_HUB_THREADS": "many"])
        }
        #expect(error?.kind == .wrongType)
    }

    @Test func hubAndResolverThreadCountsAreApplied() throws {
        let hub = try Hub.configured(name: "config-threads", configuration: ResolverConfiguration(resolverThreads: 3),
                                     environment: ["EVERGREEN_HUB_THREADS": "2"])
        defer { hub.shutdown() }
        #expect(hub.threadPool.threads == 2)
        #expect((hub.resolver as? ThreadResolver)?.threads == 3)
        #expect(hub.resolverConfiguration?.source(of: .hubThreads) == .environment(variable: "EVERGREEN_HUB_THREADS"))
    }

    @Test func reloadRebuildsTheResolverAndABadReloadKeepsThePreviousOne() async throws {
        try await withConfigDirectory { directory in
            let path = try directory.write("dns.yaml", "resolver: block\n")
            let hub = try Hub.configured(name: "config-reload", configuration: ResolverConfiguration(configFile: path), environment: [:])
            defer { hub.shutdown() }
            #expect(hub.resolver is BlockingResolver)

            try directory.write("dns.yaml", "resolver: thread\nresolverThreads: 2\n")
            let effective = try hub.reloadResolver()
            #expect(effective.backends == [.thread])
            #expect((hub.resolver as? ThreadResolver)?.threads == 2)
            let kept = hub.resolver as? ThreadResolver

            try directory.write("dns.yaml", "resolver: thread\ntimeout: 0\n")
            let error = configurationError { try hub.reloadResolver() }
            #expect(error?.kind == .invalidValue)
            #expect(error?.source == .file(path: path))
            #expect((hub.resolver as? ThreadResolver) === kept)
            #expect(hub.resolverConfiguration?.settings.resolverThreads == 2)

            try directory.write("dns.yaml", "{\"resolver\": [\"block\"]")   // not even YAML
            #expect(configurationError { try hub.reloadResolver() }?.kind == .malformedFile)
            #expect((hub.resolver as? ThreadResolver) === kept)
        }
    }

    @Test func aHubsResolverIsMadeFromItsConfigurationAtFirstUse() throws {
        let hub = Hub(name: "config-lazy", threadPoolSize: 1)
        defer { hub.shutdown() }
        hub.configureResolver(ResolverConfiguration(resolverThreads: 4), environment: ["EVERGREEN_RESOLVER": "block,thread"])
        #expect(hub.resolverConfiguration == nil)
        #expect(hub.resolver is BlockingResolver)
        #expect(hub.resolverConfiguration?.source(of: .resolver) == .environment(variable: "EVERGREEN_RESOLVER"))
        #expect(hub.resolverConfiguration?.resolverThreads == 4)
    }

    @Test func aBadConfigurationAtFirstUseFailsEveryLookupWithTheError() async throws {
        let hub = Hub(name: "config-lazy-bad", threadPoolSize: 1)
        defer { hub.shutdown() }
        let lines = RecordingLogHandler.Lines()
        hub.configureResolver(ResolverConfiguration(), environment: ["EVERGREEN_TIMEOUT": "0"], maker: testMaker(lines: lines))
        let error = await #expect(throws: ConfigurationError.self) {
            _ = try await hub.resolver.getaddrinfo(host: "127.0.0.1")
        }
        #expect(error?.source == .environment(variable: "EVERGREEN_TIMEOUT"))
        #expect(error?.kind == .invalidValue)
        await #expect(throws: ConfigurationError.self) { _ = try await hub.resolver.gethostbyname("localhost") }
        #expect(lines.texts(at: .error) == ["hub 'config-lazy-bad': bad resolver configuration: environment variable "
                                            + "EVERGREEN_TIMEOUT, key 'timeout', value '0': the timeout must be more than 0 seconds"])
        // Fixing it and reloading gives a working resolver.
        hub.configureResolver(ResolverConfiguration(resolver: [.block]), environment: [:])
        try hub.reloadResolver()
        #expect(try await hub.resolver.getaddrinfo(host: "127.0.0.1", port: 80, type: .stream).map(\.address)
                == [.inet(host: "127.0.0.1", port: 80)])
    }

    @Test func whenNoBackendCanBeMadeAtFirstUseTheHubFallsBackToThreadAndWarns() {
        let hub = Hub(name: "config-lazy-none", threadPoolSize: 1)
        defer { hub.shutdown() }
        let lines = RecordingLogHandler.Lines()
        hub.configureResolver(ResolverConfiguration(resolver: [.ares]), environment: [:],
                              maker: testMaker(refusing: [.ares], lines: lines))
        #expect(hub.resolver is ThreadResolver)
        #expect(hub.resolverConfiguration == nil)
        #expect(lines.texts(at: .warning) == ["hub 'config-lazy-none': code setting, key 'resolver', value 'ares': "
                                              + "no backend could be made: ares: ares is broken for this test; using 'thread'"])
    }

    @Test func atDebugEveryLookupIsLoggedWithBackendNameResultAndTime() async throws {
        let lines = RecordingLogHandler.Lines()
        var logger = Logger(label: "test") { _ in RecordingLogHandler(lines: lines) }
        logger.logLevel = .debug
        let resolver = LoggingResolver(TableResolver(table: ["www.example.test": ["192.0.2.7", "192.0.2.8"]]), logger: logger)
        #expect(resolver.name == "table")
        let answer = try await resolver.getaddrinfo(host: "www.example.test")
        #expect(answer.count == 2)
        await #expect(throws: AddressInfoError.self) { try await resolver.getaddrinfo(host: "nope.example.test") }
        _ = try await resolver.gethostbyname("www.example.test")
        let debug = lines.texts(at: .debug)
        #expect(debug.count == 3)
        #expect(debug[0].hasPrefix("getaddrinfo www.example.test -> 192.0.2.7, 192.0.2.8 (table, "))
        #expect(debug[0].hasSuffix(" ms)"))
        #expect(debug[1].hasPrefix("getaddrinfo nope.example.test -> error [Errno -2] Name or service not known (table, "))
        #expect(debug[2].hasPrefix("gethostbyname www.example.test -> 192.0.2.7 (table, "))
    }

    @Test func belowDebugTheDecoratorLogsNothing() async throws {
        let lines = RecordingLogHandler.Lines()
        var logger = Logger(label: "test") { _ in RecordingLogHandler(lines: lines) }
        logger.logLevel = .info
        let resolver = LoggingResolver(TableResolver(table: ["a.test": ["192.0.2.1"]]), logger: logger)
        _ = try await resolver.getaddrinfo(host: "a.test")
        #expect(lines.all.isEmpty)
    }

    @Test func aHubConfiguredAtDebugWrapsItsResolverInTheDecorator() throws {
        let lines = RecordingLogHandler.Lines()
        let hub = try Hub.configured(name: "config-debug", configuration: ResolverConfiguration(resolver: [.block], logLevel: .debug),
                                     environment: [:], maker: testMaker(lines: lines))
        defer { hub.shutdown() }
        let wrapped = hub.resolver as? LoggingResolver
        #expect(wrapped?.base is BlockingResolver)
        #expect(wrapped?.name == "block")
        #expect(lines.texts(at: .info).count == 1)
    }
}
