@testable import Resolvers

/// What a call gave: a value, or an error reduced to what is compared.
enum ConformanceOutcome: Hashable, Sendable, CustomStringConvertible {
    case addresses([AddressInfo])
    case entry(HostEntry)
    case address(String)
    case names(host: String, service: String)
    /// `AddressInfoError`, `HostError` or `SystemError`: kind, code and message.
    case failure(kind: String, code: Int32, message: String)
    /// Our own argument errors are compared by kind only (the reference is
    /// not meant to repeat our wording).
    case invalidArgument
    /// Anything else, by type name.
    case otherError(String)

    init(error: any Error) {
        switch error {
        case let error as AddressInfoError: self = .failure(kind: "gaierror", code: error.code, message: error.message)
        case let error as HostError: self = .failure(kind: "herror", code: error.code, message: error.message)
        case let error as SystemError: self = .failure(kind: "OSError", code: error.code, message: error.message)
        case is InvalidArgument: self = .invalidArgument
        default: self = .otherError("\(type(of: error)): \(error)")
        }
    }

    var isError: Bool {
        switch self {
        case .failure, .invalidArgument, .otherError: return true
        default: return false
        }
    }

    var description: String {
        switch self {
        case .addresses(let list): return "[" + list.map(\.description).joined(separator: ", ") + "]"
        case .entry(let entry): return "(\(entry.name.debugDescription), \(entry.aliases), \(entry.addresses))"
        case .address(let text): return text.debugDescription
        case .names(let host, let service): return "(\(host.debugDescription), \(service.debugDescription))"
        case .failure(let kind, let code, let message): return "\(kind)(\(code), \(message.debugDescription))"
        case .invalidArgument: return "InvalidArgument"
        case .otherError(let text): return text
        }
    }
}

extension ConformanceCall {
    /// Runs the call on `resolver` (from the caller's task: the hub it runs on).
    func run(on resolver: any Resolver) async -> ConformanceOutcome {
        do {
            switch self {
            case .getaddrinfo(let host, let port, let family, let type, let proto, let flags):
                return .addresses(try await resolver.getaddrinfo(host: host, port: port, family: family, type: type,
                                                                 proto: proto, flags: flags))
            case .gethostbyname(let host): return .address(try await resolver.gethostbyname(host))
            case .gethostbynameEx(let host): return .entry(try await resolver.gethostbynameEx(host))
            case .gethostbyaddr(let host): return .entry(try await resolver.gethostbyaddr(host))
            case .getnameinfo(let host, let port, let flags):
                let address = try SocketAddress(numericHost: host, port: port)
                let names = try await resolver.getnameinfo(address, flags: flags)
                return .names(host: names.host, service: names.service)
            }
        } catch {
            return ConformanceOutcome(error: error)
        }
    }
}

/// How a backend's outcome is judged against the system's.
struct ConformanceComparison: Sendable {
    /// Names the comparison in reports.
    var name: String
    /// True when `actual` (the backend's) is acceptable for `expected` (the system's).
    var matches: @Sendable (_ call: ConformanceCall, _ expected: ConformanceOutcome, _ actual: ConformanceOutcome) -> Bool

    /// Exact equality: values, order, canonical names, error kinds, codes and
    /// messages. The one allowance: for a name in `rotating` (a DNS server
    /// hands its addresses out round-robin, so two queries in a row differ
    /// in order) addresses may come back rotated, and a single address may be
    /// any of the name's.
    static func exact(rotating: [String: Set<String>]) -> ConformanceComparison {
        ConformanceComparison(name: "exact") { call, expected, actual in
            if expected == actual { return true }
            guard let host = call.host, let addresses = rotating[host] else { return false }
            return sameUpToRotation(expected, actual, addresses: addresses)
        }
    }

    /// `a` and `b` differ at most by the rotation of a round-robin answer.
    static func sameUpToRotation(_ a: ConformanceOutcome, _ b: ConformanceOutcome, addresses: Set<String>) -> Bool {
        switch (a, b) {
        case (.addresses(let x), .addresses(let y)):
            guard x.first?.canonicalName == y.first?.canonicalName else { return false }
            let strip = { (list: [AddressInfo]) in list.map { entry -> AddressInfo in
                var entry = entry
                entry.canonicalName = ""
                return entry
            } }
            return isRotation(strip(x), strip(y))
        case (.entry(let x), .entry(let y)):
            guard x.name == y.name, x.aliases == y.aliases else { return false }
            if x.addresses.count == 1 && y.addresses.count == 1 {
                return addresses.contains(x.addresses[0]) && addresses.contains(y.addresses[0])
            }
            return isRotation(x.addresses, y.addresses)
        case (.address(let x), .address(let y)):
            return addresses.contains(x) && addresses.contains(y)
        default:
            return false
        }
    }

    /// Whether `b` is `a` rotated.
    static func isRotation<T: Equatable>(_ a: [T], _ b: [T]) -> Bool {
        guard a.count == b.count else { return false }
        if a.isEmpty { return true }
        return (0..<a.count).contains { shift in Array(a[shift...] + a[..<shift]) == b }
    }
}

extension ConformanceCall {
    /// The host the call is about.
    var host: String? {
        switch self {
        case .getaddrinfo(let host, _, _, _, _, _): return host
        case .gethostbyname(let host), .gethostbynameEx(let host), .gethostbyaddr(let host): return host
        case .getnameinfo(let host, _, _): return host
        }
    }
}
