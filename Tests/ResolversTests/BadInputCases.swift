import Resolvers

// The shapes of the corpus files in `Fixtures/bad-input/` that the resolver
// tests read. Each case carries a `BadInputRule` (errors, message, accepted).

/// `hosts.json`.
struct BadHosts: Decodable {
    struct Case: Decodable, Sendable, CustomStringConvertible {
        let id: String
        let host: String
        let rule: BadInputRule
        var description: String { id }

        enum Keys: String, CodingKey { case id, host }
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Keys.self)
            id = try container.decode(String.self, forKey: .id)
            host = expandTemplate(try container.decode(String.self, forKey: .host))
            rule = try BadInputRule(from: decoder)
        }
    }
    let cases: [Case]
    static let corpus: BadHosts = loadBadInput("hosts.json")
}

/// `ports.json`.
struct BadPorts: Decodable {
    struct Case: Decodable, Sendable, CustomStringConvertible {
        let id: String
        let port: ServicePort
        let rule: BadInputRule
        var description: String { id }

        enum Keys: String, CodingKey { case id, number, service }
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Keys.self)
            id = try container.decode(String.self, forKey: .id)
            if let number = try container.decodeIfPresent(Int.self, forKey: .number) {
                port = .number(number)
            } else {
                port = .service(expandTemplate(try container.decode(String.self, forKey: .service)))
            }
            rule = try BadInputRule(from: decoder)
        }
    }
    let cases: [Case]
    static let corpus: BadPorts = loadBadInput("ports.json")
}

/// `numbers.json`: families, types, protocols and flags out of range.
struct BadNumbers: Decodable {
    struct Case: Decodable, Sendable, CustomStringConvertible {
        let id: String
        let value: Int32
        /// A socket type to pair a protocol with.
        let type: Int32?
        let rule: BadInputRule
        var description: String { id }

        enum Keys: String, CodingKey { case id, value, type }
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Keys.self)
            id = try container.decode(String.self, forKey: .id)
            value = try container.decode(Int32.self, forKey: .value)
            type = try container.decodeIfPresent(Int32.self, forKey: .type)
            rule = try BadInputRule(from: decoder)
        }
    }
    let families: [Case]
    let types: [Case]
    let protocols: [Case]
    let addressInfoFlags: [Case]
    let nameInfoFlags: [Case]
    let socketFamilies: [Case]
    let socketTypes: [Case]
    let socketProtocols: [Case]
    static let corpus: BadNumbers = loadBadInput("numbers.json")
}

/// `addresses.json`: numeric host text and socket addresses.
struct BadAddresses: Decodable {
    struct NumericHost: Decodable, Sendable, CustomStringConvertible {
        let id: String
        let text: String
        let rule: BadInputRule
        var description: String { id }

        enum Keys: String, CodingKey { case id, text }
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Keys.self)
            id = try container.decode(String.self, forKey: .id)
            text = expandTemplate(try container.decode(String.self, forKey: .text))
            rule = try BadInputRule(from: decoder)
        }
    }

    struct Address: Decodable, Sendable, CustomStringConvertible {
        let id: String
        let address: SocketAddress
        /// The calls this case is for; nil: all.
        let only: [String]?
        let rule: BadInputRule
        var description: String { id }

        func applies(to call: String) -> Bool { only?.contains(call) ?? true }

        enum Keys: String, CodingKey { case id, family, host, port, flowInfo, only }
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Keys.self)
            id = try container.decode(String.self, forKey: .id)
            let host = expandTemplate(try container.decode(String.self, forKey: .host))
            let port = try container.decodeIfPresent(UInt16.self, forKey: .port) ?? 0
            switch try container.decode(String.self, forKey: .family) {
            case "inet": address = .inet(host: host, port: port)
            case "inet6": address = .inet6(host: host, port: port, flowInfo: try container.decodeIfPresent(UInt32.self, forKey: .flowInfo) ?? 0)
            default: address = .unix(path: host)
            }
            only = try container.decodeIfPresent([String].self, forKey: .only)
            rule = try BadInputRule(from: decoder)
        }
    }

    let numericHosts: [NumericHost]
    let socketAddresses: [Address]
    static let corpus: BadAddresses = loadBadInput("addresses.json")
}

/// `nameservers.json`.
struct BadNameservers: Decodable {
    struct Case: Decodable, Sendable, CustomStringConvertible {
        let id: String
        let text: String
        /// The `ConfigurationError.Kind` configuration gives it; nil when accepted.
        let kind: String?
        let accepted: String?
        /// Why configuration loads it although the parser refuses it.
        let acceptedByConfiguration: String?
        var description: String { id }

        enum Keys: String, CodingKey { case id, text, kind, accepted, acceptedByConfiguration }
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Keys.self)
            id = try container.decode(String.self, forKey: .id)
            text = expandTemplate(try container.decode(String.self, forKey: .text))
            kind = try container.decodeIfPresent(String.self, forKey: .kind)
            accepted = try container.decodeIfPresent(String.self, forKey: .accepted)
            acceptedByConfiguration = try container.decodeIfPresent(String.self, forKey: .acceptedByConfiguration)
        }
    }
    let cases: [Case]
    static let corpus: BadNameservers = loadBadInput("nameservers.json")
}

/// The backends every resolver case runs on.
let badInputBackends = ["block", "thread", "ares"]
