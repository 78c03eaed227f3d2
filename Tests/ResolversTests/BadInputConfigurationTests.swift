@testable import Resolvers
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Configuration from the environment, code and files against the corpus in
/// `Fixtures/bad-input/`: every bad setting is a `ConfigurationError` (or,
/// for code-level options, an `InvalidArgument`) naming what is wrong; never
/// a crash, a hang or a silent default.
@Suite("Bad input: configuration", .timeLimit(.minutes(2)))
struct ConfigurationBadInputTests {
    @Test(arguments: BadEnvironment.corpus.cases)
    func environmentVariables(_ bad: BadEnvironment.Case) {
        do {
            let effective = try load(environment: bad.variables)
            if bad.accepted == nil { Issue.record("\(bad.id): loaded \(effective.settings); expected \(bad.kind ?? "?")") }
        } catch let error as ConfigurationError {
            if let accepted = bad.accepted { Issue.record("\(bad.id): \(error); documented as accepted (\(accepted))"); return }
            #expect(error.kind.rawValue == bad.kind, "\(bad.id): \(error)")
            switch error.source {
            case .environment(let variable): #expect(bad.variables.keys.contains(variable), "\(bad.id): names \(variable)")
            case .file: #expect(bad.variables["EVERGREEN_CONFIG"] != nil, "\(bad.id): source \(error.source)")
            default: Issue.record("\(bad.id): source \(error.source)")
            }
            expectClearError(error, types: ["ConfigurationError"], message: bad.message, label: "environment \(bad.id)")
        } catch {
            Issue.record("\(bad.id): threw \(type(of: error)): \(error); expected a ConfigurationError")
        }
    }

    @Test(arguments: BadCode.corpus.resolverConfiguration)
    func resolverConfigurationInCode(_ bad: BadCode.Case) throws {
        var code = ResolverConfiguration()
        try bad.apply(to: &code)
        let error = configurationError { _ = try load(code) }
        #expect(error?.kind.rawValue == bad.kind, "\(bad.id): \(String(describing: error))")
        if let error { expectClearError(error, types: ["ConfigurationError"], message: bad.message, label: "code \(bad.id)") }
        // Hub.configured refuses it too, and leaves no hub running.
        #expect(throws: ConfigurationError.self, "\(bad.id)") { _ = try Hub.configured(name: "bad-code", configuration: code, environment: [:]) }
    }

    @Test(arguments: BadCode.corpus.aresOptions)
    func aresOptionsInCode(_ bad: BadCode.Case) async throws {
        var options = AresOptions()
        options.nameservers = [try AresNameserver(parsing: "127.0.0.1:53")]
        try bad.apply(to: &options)
        do {
            try options.validate()
            Issue.record("\(bad.id): validate() accepted it")
        } catch {
            expectClearError(error, types: ["InvalidArgument"], message: bad.message, label: "AresOptions.validate \(bad.id)")
        }
        let hub = Hub(name: "bad-ares-options", threadPoolSize: 1)
        defer { hub.shutdown() }
        do {
            let resolver = try AresResolver(hub: hub, options: options)
            Issue.record("\(bad.id): AresResolver accepted it")
            await resolver.close()
        } catch {
            expectClearError(error, types: ["InvalidArgument"], message: bad.message, label: "AresResolver(options:) \(bad.id)")
        }
    }

    @Test(arguments: BadCode.corpus.resolverOptions)
    func resolverOptionsForMakeResolver(_ bad: BadCode.Case) async throws {
        var options = ResolverOptions()
        try bad.apply(to: &options)
        let hub = Hub(name: "bad-resolver-options", threadPoolSize: 1)
        defer { hub.shutdown() }
        do {
            let resolver = try makeResolver(kind: ResolverKind(rawValue: bad.kind ?? ""), options: options, hub: hub)
            Issue.record("\(bad.id): makeResolver accepted it: \(resolver.name)")
            await resolver.close()
        } catch {
            expectClearError(error, types: ["InvalidArgument", "ResolverUnavailableError", "ConfigurationError"],
                             message: bad.message, label: "makeResolver \(bad.id)")
        }
    }

    @Test(arguments: BadNameservers.corpus.cases)
    func nameserversInTheEnvironmentAndFiles(_ bad: BadNameservers.Case) async throws {
        let acceptedByConfiguration = bad.accepted != nil || bad.acceptedByConfiguration != nil
        try await withConfigDirectory { directory in
            let json = "{\"nameservers\": [\(jsonString(bad.text))]}"
            let file = try directory.write("ns.json", json)
            let sources: [(String, () throws -> EffectiveConfiguration)] = [
                ("EVERGREEN_NAMESERVERS", { try load(environment: ["EVERGREEN_NAMESERVERS": bad.text]) }),
                ("file", { try load(ResolverConfiguration(configFile: file)) }),
            ]
            for (source, body) in sources {
                do {
                    _ = try body()
                    if !acceptedByConfiguration { Issue.record("\(bad.id) in \(source): loaded; expected \(bad.kind ?? "?")") }
                } catch let error as ConfigurationError {
                    if acceptedByConfiguration { Issue.record("\(bad.id) in \(source): \(error); expected to load"); continue }
                    #expect(error.kind.rawValue == bad.kind, "\(bad.id) in \(source): \(error)")
                    #expect(error.key == "nameservers", "\(bad.id) in \(source): \(error)")
                } catch {
                    Issue.record("\(bad.id) in \(source): threw \(type(of: error)): \(error)")
                }
            }
        }
    }

    @Test(arguments: BadConfigFiles.corpus.files)
    func committedBadFiles(_ bad: BadConfigFiles.File) {
        let path = badInputFixture("config/\(bad.file)")
        for (how, body) in [("configFile", { _ = try load(ResolverConfiguration(configFile: path)) }),
                            ("EVERGREEN_CONFIG", { _ = try load(environment: ["EVERGREEN_CONFIG": path]) })] as [(String, () throws -> Void)] {
            do {
                try body()
                if bad.accepted == nil { Issue.record("\(bad.file) via \(how): loaded; expected \(bad.kind ?? "?")") }
            } catch let error as ConfigurationError {
                if let accepted = bad.accepted { Issue.record("\(bad.file) via \(how): \(error); documented as accepted (\(accepted))"); continue }
                #expect(error.kind.rawValue == bad.kind, "\(bad.file) via \(how): \(error)")
                #expect(error.description.hasPrefix("config file '\(path)'"), "\(bad.file): \(error)")
                expectClearError(error, types: ["ConfigurationError"], message: nil, label: "\(bad.file) via \(how)")
            } catch {
                Issue.record("\(bad.file) via \(how): threw \(type(of: error)): \(error)")
            }
        }
    }
}

/// JSON text for `text` (control characters and NUL escaped).
func jsonString(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case _ where scalar.value < 0x20: out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}
