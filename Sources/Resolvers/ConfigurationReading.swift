import Configuration
import Logging

/// One source of settings (the environment, a file, an application's
/// reader) read through a swift-configuration `ConfigReader` into a
/// `ResolverConfiguration`, every value checked.
struct ConfigurationLayer {
    /// Reads the keys, relative to itself.
    let reader: ConfigReader
    /// Where a key's value comes from, for provenance and errors.
    let source: (ConfigurationKey) -> ConfigurationSource
    /// The JSON type of each top-level value, when the layer is a JSON file:
    /// swift-configuration's JSON snapshot reads `true` as 1 and 1 as
    /// `true`, and a wrong type must be an error, not a guess.
    var jsonOutline: JSONOutline? = nil

    /// Every setting present in the layer.
    func read() throws -> ResolverConfiguration {
        var result = ResolverConfiguration()
        if let names = try list(.resolver) {
            let kinds = try names.map { name in
                guard let kind = ResolverKind(configurationName: name) else {
                    throw error(.unknownBackend, .resolver, name, "unknown backend (expected ares, thread or block)")
                }
                return kind
            }
            guard !kinds.isEmpty else { throw error(.invalidValue, .resolver, "", "the list of backends is empty") }
            if let twice = duplicate(in: kinds) {
                throw error(.invalidValue, .resolver, names.joined(separator: ","), "backend '\(twice)' is listed twice")
            }
            result.resolver = kinds
        }
        if let texts = try list(.nameservers) {
            result.nameservers = try texts.map { text in
                if let port = Self.portText(inNameserver: text), !Self.isPort(port) {
                    throw error(.portOutOfRange, .nameservers, text, "the port must be 1-65535")
                }
                do {
                    return try AresNameserver(parsing: text)
                } catch {
                    throw self.error(.malformedAddress, .nameservers, text, "\(error)")
                }
            }
        }
        if let seconds = try scalar(.timeout, { try reader.requiredDouble(forKey: $0) }) {
            if let problem = SettingRules.timeoutProblem(seconds: seconds) {
                throw error(.invalidValue, .timeout, raw(.timeout) ?? "\(seconds)", problem)
            }
            result.timeout = .nanoseconds(Int64((seconds * 1e9).rounded(.up)))
        }
        result.tries = try integer(.tries, in: SettingRules.tries)
        result.ndots = try integer(.ndots, in: SettingRules.ndots)
        for key in [ConfigurationKey.udpPort, .tcpPort] {
            if let port = try scalar(key, { try reader.requiredInt(forKey: $0) }) {
                guard SettingRules.ports.contains(port) else {
                    throw error(.portOutOfRange, key, raw(key) ?? "\(port)", "a port must be 1-65535")
                }
                if key == .udpPort { result.udpPort = UInt16(port) } else { result.tcpPort = UInt16(port) }
            }
        }
        result.rotate = try scalar(.rotate, { try reader.requiredBool(forKey: $0) })
        if let domains = try list(.searchDomains) {
            for domain in domains {
                if let problem = SettingRules.domainProblem(domain) { throw error(.invalidValue, .searchDomains, domain, problem) }
            }
            result.searchDomains = domains
        }
        if let names = try list(.flags) {
            var flags = AresFlags()
            for name in names {
                guard let flag = ConfigurationKey.flagNames.first(where: { $0.name.lowercased() == name.lowercased() }) else {
                    throw error(.invalidValue, .flags, name, "unknown flag (expected \(ConfigurationKey.flagNames.map(\.name).joined(separator: ", ")))")
                }
                flags.insert(flag.flag)
            }
            result.flags = flags
        }
        result.maxActiveLookups = try integer(.maxActiveLookups, in: SettingRules.activeLookups)
        result.resolverThreads = try integer(.resolverThreads, in: SettingRules.threads)
        result.hubThreads = try integer(.hubThreads, in: SettingRules.threads)
        if let name = try scalar(.log, { try reader.requiredString(forKey: $0) }) {
            guard let level = Logger.Level(rawValue: name.lowercased()) else {
                throw error(.invalidValue, .log, name, "unknown log level (expected \(ConfigurationKey.logLevelNames))")
            }
            result.logLevel = level
        }
        return result
    }

    // MARK: Typed reads

    /// A whole number in `range`, or nil when the key is absent.
    private func integer(_ key: ConfigurationKey, in range: ClosedRange<Int>) throws -> Int? {
        guard let value = try scalar(key, { try reader.requiredInt(forKey: $0) }) else { return nil }
        if let problem = SettingRules.rangeProblem(value, range, what: key.rawValue) {
            throw error(.invalidValue, key, raw(key) ?? "\(value)", problem)
        }
        return value
    }

    /// A single value, or nil when the key is absent.
    private func scalar<T>(_ key: ConfigurationKey, _ get: (ConfigKey) throws -> T) throws -> T? {
        if let outline = jsonOutline?[key.rawValue] {
            guard outline.kind != .null else { return nil }
            guard key.jsonKinds.contains(outline.kind) else { throw wrongType(key) }
        }
        do {
            return try get(ConfigKey([key.rawValue]))
        } catch where Self.isMissing(error) {
            return nil
        } catch {
            throw wrongType(key)
        }
    }

    /// A list given as an array or as comma-separated text (as the
    /// environment gives it), blanks dropped; nil when the key is absent.
    private func list(_ key: ConfigurationKey) throws -> [String]? {
        if let outline = jsonOutline?[key.rawValue] {
            guard outline.kind != .null else { return nil }
            guard outline.kind == .string || (outline.kind == .array && outline.elements.isSubset(of: [.string])) else {
                throw wrongType(key)
            }
        }
        let configKey = ConfigKey([key.rawValue])
        let items: [String]
        do {
            items = try reader.requiredStringArray(forKey: configKey)
        } catch where Self.isMissing(error) {
            return nil
        } catch {
            // Not an array: one text with commas, e.g. `resolver: ares,thread`.
            guard let text = try? reader.requiredString(forKey: configKey) else { throw wrongType(key) }
            items = text.split(separator: ",").map(String.init)
        }
        return items.map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
    }

    // MARK: Errors

    /// swift-configuration's "missing" error is package-internal, so it is
    /// told apart from "wrong type" by its text; a test pins both.
    static func isMissing(_ error: any Error) -> Bool {
        "\(error)".hasPrefix("Missing required config value")
    }

    private func wrongType(_ key: ConfigurationKey) -> ConfigurationError {
        error(.wrongType, key, raw(key), "expected \(key.expected)")
    }

    private func error(_ kind: ConfigurationError.Kind, _ key: ConfigurationKey, _ value: String?, _ reason: String) -> ConfigurationError {
        ConfigurationError(kind, source: source(key), key: key.rawValue, value: value, reason: reason)
    }

    /// The value as written, for error messages.
    private func raw(_ key: ConfigurationKey) -> String? {
        if let outline = jsonOutline?[key.rawValue] { return outline.text }
        let configKey = ConfigKey([key.rawValue])
        if let text = reader.string(forKey: configKey) { return text }
        return reader.stringArray(forKey: configKey).map { "[" + $0.joined(separator: ", ") + "]" }
    }

    // MARK: Nameserver ports

    /// The port text of `IPv4:PORT` or `[IPv6]:PORT`, to tell a port out of
    /// range from a malformed address.
    static func portText(inNameserver text: String) -> Substring? {
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            let rest = text[text.index(after: close)...]
            return rest.first == ":" ? rest.dropFirst() : nil
        }
        guard text.utf8.filter({ $0 == UInt8(ascii: ":") }).count == 1, let colon = text.firstIndex(of: ":") else { return nil }
        return text[text.index(after: colon)...]
    }

    /// Whether `text` is digits naming a port in 1...65535 (non-digits are
    /// left for the address parser to report as malformed).
    static func isPort(_ text: Substring) -> Bool {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return true }
        guard text.count <= 5, let value = Int(text) else { return false }
        return SettingRules.ports.contains(value)
    }
}

extension ConfigurationKey {
    /// The JSON types a scalar setting accepts.
    var jsonKinds: Set<JSONOutline.Kind> {
        switch self {
        case .timeout, .tries, .ndots, .udpPort, .tcpPort, .maxActiveLookups, .resolverThreads, .hubThreads: return [.number]
        case .rotate: return [.bool]
        case .resolver, .nameservers, .searchDomains, .flags: return [.string, .array]
        case .log: return [.string]
        }
    }
}

extension ResolverKind {
    /// The backend called `name` in a configuration ("ares", "thread", "block").
    init?(configurationName name: String) {
        guard let kind = ResolverKind.allCases.first(where: { "\($0)" == name.lowercased() }) else { return nil }
        self = kind
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs and newlines.
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
