import Foundation
@testable import Resolvers
#if canImport(Glibc)
import Glibc
#endif

/// One resolver call of the conformance suite.
enum ConformanceCall: Sendable, CustomStringConvertible {
    case getaddrinfo(host: String?, port: ServicePort?, family: AddressFamily, type: SocketType, proto: IPProtocol,
                     flags: AddressInfoFlags)
    case gethostbyname(String)
    case gethostbynameEx(String)
    case gethostbyaddr(String)
    case getnameinfo(host: String, port: UInt16, flags: NameInfoFlags)

    /// Python-like spelling, for failure reports.
    var description: String {
        switch self {
        case .getaddrinfo(let host, let port, let family, let type, let proto, let flags):
            return "getaddrinfo(\(host.map { $0.debugDescription } ?? "nil"), \(port.map { "\($0)".debugDescription } ?? "nil"), "
                + "\(family), \(type), \(proto), \(flags))"
        case .gethostbyname(let host): return "gethostbyname(\(host.debugDescription))"
        case .gethostbynameEx(let host): return "gethostbynameEx(\(host.debugDescription))"
        case .gethostbyaddr(let host): return "gethostbyaddr(\(host.debugDescription))"
        case .getnameinfo(let host, let port, let flags): return "getnameinfo((\(host.debugDescription), \(port)), \(flags))"
        }
    }
}

/// A case: the call and the group it came from.
struct ConformanceCase: Sendable, CustomStringConvertible {
    var group: String
    var call: ConformanceCall
    var description: String { "\(call)  [\(group)]" }
}

/// Loads and expands `Fixtures/conformance/cases.json`.
enum ConformanceCases {
    /// The fixture file, found from this source file's path.
    static var fixturePath: String {
        let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        return tests.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/conformance/cases.json").path
    }

    /// Every case of the fixture, in file order.
    static func load(path: String = fixturePath) throws -> [ConformanceCase] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
              let sets = root["hostSets"] as? [String: [String]],
              let groups = root["groups"] as? [[String: Any]] else {
            throw InvalidArgument("\(path): expected hostSets and groups")
        }
        var cases: [ConformanceCase] = []
        for group in groups {
            cases += try expand(group, sets: sets)
        }
        return cases
    }

    /// The names whose DNS answers rotate between queries, with all their addresses.
    static func loadRotating(path: String = fixturePath) throws -> [String: Set<String>] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw InvalidArgument("\(path): not a JSON object")
        }
        return (root["rotating"] as? [String: [String]] ?? [:]).mapValues(Set.init)
    }

    static func expand(_ group: [String: Any], sets: [String: [String]]) throws -> [ConformanceCase] {
        let name = group["name"] as? String ?? "?"
        let hosts = try (group["hosts"] as? [Any] ?? []).flatMap { entry -> [String?] in
            if entry is NSNull { return [nil] }
            guard let text = entry as? String else { throw InvalidArgument("\(name): bad host \(entry)") }
            return (sets[text] ?? [text]).map { $0 == "$HOSTNAME" ? hostName() : $0 }
        }
        let ports = group["ports"] as? [Any] ?? [NSNull()]
        var calls: [ConformanceCall] = []
        switch group["call"] as? String {
        case "getaddrinfo":
            let families = try (group["families"] as? [Any] ?? ["UNSPEC"]).map { AddressFamily(rawValue: try number($0, names: familyNames)) }
            let types = try (group["types"] as? [Any] ?? [0]).map { SocketType(rawValue: try number($0, names: typeNames)) }
            let protos = try (group["protocols"] as? [Any] ?? [0]).map { IPProtocol(rawValue: try number($0, names: protocolNames)) }
            let flagSets = try (group["flags"] as? [Any] ?? [[]]).map { AddressInfoFlags(rawValue: try bits($0, names: addressFlagNames)) }
            for host in hosts {
                for port in ports {
                    let servicePort = try servicePort(port)
                    for family in families {
                        for type in types {
                            for proto in protos {
                                for flags in flagSets {
                                    calls.append(.getaddrinfo(host: host, port: servicePort, family: family, type: type,
                                                              proto: proto, flags: flags))
                                }
                            }
                        }
                    }
                }
            }
        case "gethostbyname": calls = hosts.compactMap { $0.map { .gethostbyname($0) } }
        case "gethostbynameEx": calls = hosts.compactMap { $0.map { .gethostbynameEx($0) } }
        case "gethostbyaddr": calls = hosts.compactMap { $0.map { .gethostbyaddr($0) } }
        case "getnameinfo":
            let flagSets = try (group["flags"] as? [Any] ?? [[]]).map { NameInfoFlags(rawValue: try bits($0, names: nameFlagNames)) }
            for host in hosts.compactMap({ $0 }) {
                for port in ports {
                    guard let number = port as? Int, let port16 = UInt16(exactly: number) else {
                        throw InvalidArgument("\(name): getnameinfo ports must be 0-65535, got \(port)")
                    }
                    for flags in flagSets { calls.append(.getnameinfo(host: host, port: port16, flags: flags)) }
                }
            }
        default:
            throw InvalidArgument("\(name): unknown call \(group["call"] ?? "nil")")
        }
        return calls.map { ConformanceCase(group: name, call: $0) }
    }

    static let familyNames: [String: Int32] = ["INET": AF_INET, "INET6": AF_INET6, "UNSPEC": AF_UNSPEC]
    static let typeNames: [String: Int32] = ["STREAM": SocketType.stream.rawValue, "DGRAM": SocketType.datagram.rawValue,
                                             "RAW": SocketType.raw.rawValue]
    static let protocolNames: [String: Int32] = ["TCP": IPProtocol.tcp.rawValue, "UDP": IPProtocol.udp.rawValue]
    static let addressFlagNames: [String: Int32] = Dictionary(uniqueKeysWithValues: AddressInfoFlags.names.map { ($0.1, $0.0.rawValue) })
    static let nameFlagNames: [String: Int32] = Dictionary(uniqueKeysWithValues: NameInfoFlags.names.map { ($0.1, $0.0.rawValue) })

    static func number(_ value: Any, names: [String: Int32]) throws -> Int32 {
        if let text = value as? String {
            guard let number = names[text] else { throw InvalidArgument("unknown name \(text)") }
            return number
        }
        guard let number = value as? Int, let value = Int32(exactly: number) else { throw InvalidArgument("bad value \(value)") }
        return value
    }

    static func bits(_ value: Any, names: [String: Int32]) throws -> Int32 {
        if let list = value as? [Any] { return try list.reduce(0) { $0 | (try number($1, names: names)) } }
        return try number(value, names: names)
    }

    static func servicePort(_ value: Any) throws -> ServicePort? {
        switch value {
        case is NSNull: return nil
        case let number as Int: return .number(number)
        case let text as String: return .service(text)
        default: throw InvalidArgument("bad port \(value)")
        }
    }

    /// `gethostname(2)`.
    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        _ = gethostname(&buffer, 255)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
