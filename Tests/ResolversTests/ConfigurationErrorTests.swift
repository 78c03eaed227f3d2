@testable import Resolvers
import Testing

/// Every kind of bad configuration is a thrown `ConfigurationError` that
/// names the file (or variable), the key and the bad value.
@Suite("Configuration: bad files, variables and code")
struct ConfigurationErrorTests {
    /// One bad fixture file and what its error must say.
    struct BadFile: CustomTestStringConvertible, Sendable {
        let file: String
        let kind: ConfigurationError.Kind
        let key: String?
        let value: String?
        let message: String
        var testDescription: String { file }
    }

    static let badFiles: [BadFile] = [
        BadFile(file: "invalid-backend.json", kind: .unknownBackend, key: "resolver", value: "dnspython",
                message: "key 'resolver', value 'dnspython': unknown backend (expected ares, thread or block)"),
        BadFile(file: "invalid-nameserver.json", kind: .malformedAddress, key: "nameservers", value: "300.1.2.3",
                message: "key 'nameservers', value '300.1.2.3': bad nameserver '300.1.2.3'"),
        BadFile(file: "invalid-nameserver-port.json", kind: .portOutOfRange, key: "nameservers", value: "127.0.0.1:70000",
                message: "key 'nameservers', value '127.0.0.1:70000': the port must be 1-65535"),
        BadFile(file: "invalid-udp-port.yaml", kind: .portOutOfRange, key: "udpPort", value: "0",
                message: "key 'udpPort', value '0': a port must be 1-65535"),
        BadFile(file: "invalid-timeout-zero.json", kind: .invalidValue, key: "timeout", value: "0",
                message: "key 'timeout', value '0': the timeout must be more than 0 seconds"),
        BadFile(file: "invalid-timeout-negative.yaml", kind: .invalidValue, key: "timeout", value: "-1.5",
                message: "key 'timeout', value '-1.5': the timeout must be more than 0 seconds"),
        BadFile(file: "invalid-type-tries.json", kind: .wrongType, key: "tries", value: "two",
                message: "key 'tries', value 'two': expected a whole number"),
        BadFile(file: "invalid-type-rotate.json", kind: .wrongType, key: "rotate", value: "1",
                message: "key 'rotate', value '1': expected true or false"),
        BadFile(file: "invalid-type-bool-for-number.json", kind: .wrongType, key: "tries", value: "true",
                message: "key 'tries', value 'true': expected a whole number"),
        BadFile(file: "invalid-type-list.json", kind: .wrongType, key: "nameservers", value: "[\"127.0.0.1\", 53]",
                message: "expected a list of addresses: IP, IPv4:PORT or [IPv6]:PORT"),
        BadFile(file: "invalid-type-mapping.yaml", kind: .wrongType, key: "timeout", value: "{seconds: ...}",
                message: "key 'timeout', value '{seconds: ...}': expected a number of seconds"),
        BadFile(file: "invalid-unknown-key.json", kind: .unknownKey, key: "timout", value: "0.5",
                message: "key 'timout', value '0.5': unknown setting (did you mean 'timeout'?)"),
        BadFile(file: "invalid-unknown-key.yaml", kind: .unknownKey, key: "nameserver", value: "127.0.0.1",
                message: "key 'nameserver', value '127.0.0.1': unknown setting (did you mean 'nameservers'?)"),
        BadFile(file: "invalid-syntax.json", kind: .malformedFile, key: nil, value: nil, message: "not valid JSON"),
        BadFile(file: "invalid-syntax.yaml", kind: .malformedFile, key: nil, value: nil, message: "not valid YAML"),
        BadFile(file: "invalid-not-object.json", kind: .malformedFile, key: nil, value: nil,
                message: "not valid JSON (The top-level value of the JSON file must be an object.)"),
        BadFile(file: "invalid-empty.json", kind: .malformedFile, key: nil, value: nil, message: "the file is empty"),
        BadFile(file: "invalid-alias.yaml", kind: .malformedFile, key: nil, value: nil,
                message: "YAML anchors and aliases are not supported (line 1)"),
        BadFile(file: "invalid-deep.json", kind: .nestingTooDeep, key: nil, value: nil,
                message: "nesting deeper than 16 levels at line 1"),
        BadFile(file: "missing.json", kind: .missingFile, key: nil, value: nil, message: "the file does not exist"),
        BadFile(file: "", kind: .unreadableFile, key: nil, value: nil, message: "it is a directory"),
    ]

    @Test(arguments: badFiles)
    func aBadFileIsAnErrorNamingFileKeyAndValue(_ bad: BadFile) throws {
        let path = configFixture(bad.file)
        let error = configurationError { _ = try load(ResolverConfiguration(configFile: path)) }
        #expect(error?.kind == bad.kind)
        #expect(error?.source == .file(path: path))
        #expect(error?.key == bad.key)
        #expect(error?.value == bad.value)
        #expect(error?.description.hasPrefix("config file '\(path)'") == true, "\(error.map { "\($0)" } ?? "nil")")
        #expect(error?.description.contains(bad.message) == true, "\(error.map { "\($0)" } ?? "nil")")
    }

    @Test func aFileOverOneMebibyteIsRefusedBeforeParsing() async throws {
        try await withConfigDirectory { directory in
            // Valid JSON, so only its size can be the problem.
            let padding = String(repeating: " ", count: ConfigurationLoader.maximumFileSize)
            let path = try directory.write("huge.json", "{\"tries\": 2\(padding)}")
            let error = configurationError { _ = try load(ResolverConfiguration(configFile: path)) }
            #expect(error?.kind == .fileTooLarge)
            #expect(error?.description == "config file '\(path)': the file is larger than 1048576 bytes")
            // Exactly the limit is fine.
            let fits = try directory.write("fits.json", "{\"tries\": 2" + String(repeating: " ", count: ConfigurationLoader.maximumFileSize - 12) + "}")
            #expect(try load(ResolverConfiguration(configFile: fits)).settings.tries == 2)
        }
    }

    @Test func absurdNestingIsRefusedWithoutRecursingIntoIt() async throws {
        try await withConfigDirectory { directory in
            let depth = 400_000
            let cases = [
                ("deep.json", "{\"resolver\": " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}"),
                ("deep-flow.yaml", "resolver: " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "\n"),
                ("deep-block.yaml", (0..<40).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n") + " 1\n"),
                ("deep-dashes.yaml", "resolver:\n" + String(repeating: "- ", count: 30) + "ares\n"),
            ]
            for (name, text) in cases {
                let path = try directory.write(name, text)
                let error = configurationError { _ = try load(ResolverConfiguration(configFile: path)) }
                #expect(error?.kind == .nestingTooDeep, "\(name): \(error.map { "\($0)" } ?? "nil")")
                #expect(error?.description.contains("nesting deeper than \(ConfigurationLoader.maximumNesting) levels") == true)
            }
        }
    }

    @Test func yamlCommentsQuotesAndBlockTextDoNotCountAsNesting() async throws {
        try await withConfigDirectory { directory in
            let path = try directory.write("tricky.yaml", """
                # [[[[[[[[[[[[[[[[[[[[ a comment, not nesting
                searchDomains: ["a.test", 'b[[[[[[[[[[[[[[[[[[[[.test', "it's \\"[[[[[[[[[[[[[[[[[[.test"]
                log: info   # &anchor and *alias here are comments
                """)
            let error = configurationError { _ = try load(ResolverConfiguration(configFile: path)) }
            // The odd domains are refused for their content, not their brackets.
            #expect(error?.kind == .invalidValue, "\(error.map { "\($0)" } ?? "nil")")
            #expect(error?.key == "searchDomains")
        }
    }

    @Test func badEnvironmentVariablesNameTheVariable() {
        let cases: [([String: String], ConfigurationError.Kind, String, String?, String)] = [
            (["EVERGREEN_RESOLVER": "ares,bogus"], .unknownBackend, "EVERGREEN_RESOLVER", "bogus",
             "environment variable EVERGREEN_RESOLVER, key 'resolver', value 'bogus': unknown backend (expected ares, thread or block)"),
            (["EVERGREEN_TIMEOUT": "soon"], .wrongType, "EVERGREEN_TIMEOUT", "soon",
             "environment variable EVERGREEN_TIMEOUT, key 'timeout', value 'soon': expected a number of seconds"),
            (["EVERGREEN_TIMEOUT": "-0.1"], .invalidValue, "EVERGREEN_TIMEOUT", "-0.1",
             "environment variable EVERGREEN_TIMEOUT, key 'timeout', value '-0.1': the timeout must be more than 0 seconds"),
            (["EVERGREEN_NAMESERVERS": "[::1]:0"], .portOutOfRange, "EVERGREEN_NAMESERVERS", "[::1]:0",
             "environment variable EVERGREEN_NAMESERVERS, key 'nameservers', value '[::1]:0': the port must be 1-65535"),
            (["EVERGREEN_NAMESERVERS": "dns.example"], .malformedAddress, "EVERGREEN_NAMESERVERS", "dns.example",
             "value 'dns.example': bad nameserver 'dns.example'"),
            (["EVERGREEN_TCP_PORT": "65536"], .portOutOfRange, "EVERGREEN_TCP_PORT", "65536",
             "environment variable EVERGREEN_TCP_PORT, key 'tcpPort', value '65536': a port must be 1-65535"),
            (["EVERGREEN_TRIES": "0"], .invalidValue, "EVERGREEN_TRIES", "0", "tries must be 1-1000"),
            (["EVERGREEN_FLAGS": "useTCP,fast"], .invalidValue, "EVERGREEN_FLAGS", "fast", "unknown flag (expected useTCP"),
            (["EVERGREEN_LOG": "loud"], .invalidValue, "EVERGREEN_LOG", "loud", "unknown log level"),
            (["EVERGREEN_TIMEOUTT": "1"], .unknownKey, "EVERGREEN_TIMEOUTT", "1",
             "environment variable EVERGREEN_TIMEOUTT, value '1': unknown setting (did you mean EVERGREEN_TIMEOUT?)"),
            (["EVERGREEN_CONFIG": ""], .invalidValue, "EVERGREEN_CONFIG", "", "the config file path is empty"),
        ]
        for (environment, kind, variable, value, message) in cases {
            let error = configurationError { _ = try load(environment: environment) }
            #expect(error?.kind == kind, "\(environment)")
            #expect(error?.source == .environment(variable: variable), "\(environment)")
            #expect(error?.value == value, "\(environment)")
            #expect(error?.description.contains(message) == true, "\(error.map { "\($0)" } ?? "nil")")
        }
    }

    @Test func badValuesInCodeAreErrorsToo() throws {
        let cases: [(ResolverConfiguration, ConfigurationError.Kind, String, String)] = [
            (ResolverConfiguration(timeout: .zero), .invalidValue, "timeout", "the timeout must be more than 0 seconds"),
            (ResolverConfiguration(tries: 0), .invalidValue, "tries", "tries must be 1-1000"),
            (ResolverConfiguration(udpPort: 0), .portOutOfRange, "udpPort", "a port must be 1-65535"),
            (ResolverConfiguration(resolver: []), .invalidValue, "resolver", "the list of backends is empty"),
            (ResolverConfiguration(resolver: [.thread, .thread]), .invalidValue, "resolver", "backend 'thread' is listed twice"),
            (ResolverConfiguration(hubThreads: 0), .invalidValue, "hubThreads", "hubThreads must be 1-1024"),
            (ResolverConfiguration(searchDomains: ["a b"]), .invalidValue, "searchDomains", "must not contain spaces"),
        ]
        for (code, kind, key, message) in cases {
            let error = configurationError { _ = try load(code) }
            #expect(error?.kind == kind, "\(key)")
            #expect(error?.source == .code)
            #expect(error?.key == key)
            #expect(error?.description.hasPrefix("code setting, key '\(key)'") == true, "\(error.map { "\($0)" } ?? "nil")")
            #expect(error?.description.contains(message) == true, "\(error.map { "\($0)" } ?? "nil")")
        }
    }

    @Test func aBadValueIsAnErrorEvenWhereAHigherSourceOverridesIt() {
        // A typo must not hide until the day the override goes away.
        let error = configurationError {
            _ = try load(ResolverConfiguration(timeout: .seconds(1)), environment: ["EVERGREEN_TIMEOUT": "0"])
        }
        #expect(error?.kind == .invalidValue)
        #expect(error?.source == .environment(variable: "EVERGREEN_TIMEOUT"))
    }

    @Test func hugeBadValuesAreCutShortInTheMessage() async throws {
        try await withConfigDirectory { directory in
            let name = String(repeating: "x", count: 10_000)
            let path = try directory.write("long.json", "{\"resolver\": [\"\(name)\"]}")
            let error = configurationError { _ = try load(ResolverConfiguration(configFile: path)) }
            #expect(error?.kind == .unknownBackend)
            #expect(error?.value?.count == 100)
            #expect(error?.value?.hasSuffix("...") == true)
        }
    }
}
