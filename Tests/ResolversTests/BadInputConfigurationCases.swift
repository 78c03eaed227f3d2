@testable import Resolvers

// The configuration parts of the bad-input corpus: `environment.json`,
// `code.json` and `config.json` in `Fixtures/bad-input/`.

/// `environment.json`: EVERGREEN_* variables with bad values.
struct BadEnvironment: Decodable {
    struct Case: Decodable, Sendable, CustomStringConvertible {
        let id: String
        let variables: [String: String]
        /// The `ConfigurationError.Kind`; nil when accepted.
        let kind: String?
        let message: String?
        let accepted: String?
        var description: String { id }

        enum Keys: String, CodingKey { case id, variables, kind, message, accepted }
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Keys.self)
            id = try container.decode(String.self, forKey: .id)
            variables = try container.decode([String: String].self, forKey: .variables).mapValues(expandTemplate)
            kind = try container.decodeIfPresent(String.self, forKey: .kind)
            message = try container.decodeIfPresent(String.self, forKey: .message)
            accepted = try container.decodeIfPresent(String.self, forKey: .accepted)
        }
    }
    let cases: [Case]
    static let corpus: BadEnvironment = loadBadInput("environment.json")
}

/// `code.json`: one bad field of a value built in code.
struct BadCode: Decodable {
    struct Case: Decodable, Sendable, CustomStringConvertible {
        let id: String
        let field: String
        let int: Int?
        /// Seconds; `max` is `Duration.seconds(Int64.max)`.
        let seconds: Duration?
        let strings: [String]?
        let text: String?
        /// A `ConfigurationError.Kind`, or for `resolverOptions` the backend.
        let kind: String?
        let message: String?
        var description: String { id }

        enum Keys: String, CodingKey { case id, field, int, seconds, strings, text, kind, message }
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Keys.self)
            id = try container.decode(String.self, forKey: .id)
            field = try container.decode(String.self, forKey: .field)
            int = try container.decodeIfPresent(Int.self, forKey: .int)
            if (try? container.decodeIfPresent(String.self, forKey: .seconds)) == "max" {
                seconds = .seconds(Int64.max)
            } else {
                seconds = try container.decodeIfPresent(Int64.self, forKey: .seconds).map { .seconds($0) }
            }
            strings = try container.decodeIfPresent([String].self, forKey: .strings)?.map(expandTemplate)
            text = try container.decodeIfPresent(String.self, forKey: .text).map(expandTemplate)
            kind = try container.decodeIfPresent(String.self, forKey: .kind)
            message = try container.decodeIfPresent(String.self, forKey: .message)
        }

        private func unknownField() -> BadInputCorpusError { BadInputCorpusError("case \(id): no field '\(field)' here") }
        private var port: UInt16 { UInt16(truncatingIfNeeded: int ?? 0) }

        func apply(to code: inout ResolverConfiguration) throws {
            switch field {
            case "timeout": code.timeout = seconds
            case "tries": code.tries = int
            case "ndots": code.ndots = int
            case "udpPort": code.udpPort = port
            case "tcpPort": code.tcpPort = port
            case "resolver": code.resolver = strings?.map { ResolverKind(rawValue: $0) }
            case "searchDomains": code.searchDomains = strings
            case "resolverThreads": code.resolverThreads = int
            case "hubThreads": code.hubThreads = int
            case "configFile": code.configFile = text
            default: throw unknownField()
            }
        }

        func apply(to options: inout AresOptions) throws {
            switch field {
            case "timeout": options.timeout = seconds
            case "tries": options.tries = int
            case "ndots": options.ndots = int
            case "lookups": options.lookups = try strings?.map { text in
                guard let source = AresLookupSource(rawValue: text) else { throw BadInputCorpusError("case \(id): lookup '\(text)'") }
                return source
            }
            case "searchDomains": options.searchDomains = strings
            case "socketReceiveBufferSize": options.socketReceiveBufferSize = int
            case "socketSendBufferSize": options.socketSendBufferSize = int
            case "maxInFlight": options.maxInFlight = int ?? 0
            case "maxActiveLookups": options.maxActiveLookups = int ?? 0
            case "hostsFilePath": options.hostsFilePath = text ?? ""
            case "hostsFileCheckInterval": options.hostsFileCheckInterval = seconds ?? .zero
            case "resolvConfPath": options.resolvConfPath = text
            default: throw unknownField()
            }
        }

        func apply(to options: inout ResolverOptions) throws {
            switch field {
            case "nameservers": options.nameservers = strings ?? []
            case "timeout": options.timeout = seconds
            case "tries": options.tries = int
            case "udpPort": options.udpPort = int
            case "tcpPort": options.tcpPort = int
            case "threads": options.threads = int ?? 0
            default: throw unknownField()
            }
        }
    }
    let resolverConfiguration: [Case]
    let aresOptions: [Case]
    let resolverOptions: [Case]
    static let corpus: BadCode = loadBadInput("code.json")
}

/// `config.json`: the committed bad config files and what each must give.
struct BadConfigFiles: Decodable {
    struct File: Decodable, Sendable, CustomStringConvertible {
        let file: String
        let kind: String?
        let accepted: String?
        var description: String { file }
    }
    let files: [File]
    static let corpus: BadConfigFiles = loadBadInput("config.json")
}

/// A corpus file that does not say what the test needs.
struct BadInputCorpusError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
