/// A bad configuration: thrown while loading settings, before anything is
/// made from them. It names where the setting came from (the file, the
/// environment variable or code), the key and the bad value, so that
/// `description` alone is enough to fix the problem:
///
/// ```text
/// config file 'conf/dns.json', key 'timeout', value '0': the timeout must be more than 0 seconds
/// environment variable EVERGREEN_RESOLVER, key 'resolver', value 'dnspython': unknown backend (expected ares, thread or block)
/// ```
///
/// A hub whose resolver is being reloaded keeps its previous resolver when
/// this is thrown.
public struct ConfigurationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong.
    public enum Kind: String, Hashable, Sendable, CaseIterable {
        /// A backend name other than `ares`, `thread` and `block`.
        case unknownBackend
        /// A nameserver that is not `IP`, `IPv4:PORT` or `[IPv6]:PORT`.
        case malformedAddress
        /// A port outside 1...65535.
        case portOutOfRange
        /// A value of the right type outside its allowed range, e.g. a zero
        /// or negative timeout.
        case invalidValue
        /// A value of the wrong type, e.g. text where a number belongs.
        case wrongType
        /// A key (or `EVERGREEN_` variable) that is not a setting.
        case unknownKey
        /// The config file does not exist.
        case missingFile
        /// The config file exists but cannot be read.
        case unreadableFile
        /// The config file is not valid JSON or YAML, or not one object.
        case malformedFile
        /// The config file is larger than `ConfigurationLoader.maximumFileSize`.
        case fileTooLarge
        /// The config file nests deeper than `ConfigurationLoader.maximumNesting`.
        case nestingTooDeep
        /// No backend in the `resolver` list could be made.
        case noUsableBackend
    }

    /// What is wrong.
    public var kind: Kind
    /// Where the bad setting came from.
    public var source: ConfigurationSource
    /// The setting's name (`timeout`), or the unknown key; nil when the
    /// problem is the whole file.
    public var key: String?
    /// The bad value as text (at most 100 characters), or nil.
    public var value: String?
    /// Why it is bad.
    public var reason: String

    /// Creates an error.
    public init(_ kind: Kind, source: ConfigurationSource, key: String? = nil, value: String? = nil, reason: String) {
        self.kind = kind
        self.source = source
        self.key = key
        // Bad values may be huge (a 1 MiB string): keep errors small.
        self.value = value.map { $0.count > 100 ? String($0.prefix(97)) + "..." : $0 }
        self.reason = reason
    }

    /// `text` with control characters (a NUL, an escape) written as escapes,
    /// so a message never carries them raw to a terminal or log.
    static func printable(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else { return text }
        return String(text.debugDescription.dropFirst().dropLast())
    }

    /// "config file 'x.json', key 'timeout', value '0': the timeout must be more than 0 seconds".
    public var description: String {
        var text = ConfigurationError.printable(source.errorLocation)
        // An unknown variable is its own key: say it once.
        if let key, source != .environment(variable: key) { text += ", key '\(ConfigurationError.printable(key))'" }
        if let value { text += ", value '\(ConfigurationError.printable(value))'" }
        return text + ": " + reason
    }
}

/// Where a setting's value came from.
public enum ConfigurationSource: Hashable, Sendable, CustomStringConvertible {
    /// A `ResolverConfiguration` passed in code (the CLI's options count as code).
    case code
    /// The environment variable `variable`.
    case environment(variable: String)
    /// The config file at `path`.
    case file(path: String)
    /// A `ConfigReader` the application passed in; `name` describes it.
    case reader(name: String)
    /// Evergreen's default, or for c-ares the system's (resolv.conf).
    case `default`

    /// "code", "environment EVERGREEN_TIMEOUT", "file conf/dns.json", "default".
    public var description: String {
        switch self {
        case .code: return "code"
        case .environment(let variable): return "environment \(variable)"
        case .file(let path): return "file \(path)"
        case .reader(let name): return "reader \(name)"
        case .default: return "default"
        }
    }

    /// The start of an error message.
    var errorLocation: String {
        switch self {
        case .code: return "code setting"
        case .environment(let variable): return "environment variable \(variable)"
        case .file(let path): return "config file '\(path)'"
        case .reader(let name): return "configuration reader \(name)"
        case .default: return "default setting"
        }
    }
}
