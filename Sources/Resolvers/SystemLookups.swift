#if canImport(Glibc)
import Glibc
#endif

/// The five resolver calls for the backends built on the C library
/// (`BlockingResolver`, `ThreadResolver`), written once: the shared front end
/// first, then the C library for what needs a lookup, through the `runner`
/// (inline for `block`, on a thread pool for `thread`).
///
/// The name-based calls follow CPython's socket module on top of glibc, so
/// results and errors are the ones Python programs see: `gethostbyname` is
/// the first IPv4 result of `getaddrinfo`; `gethostbyname_ex` checks the name
/// with `getaddrinfo` (so an unknown name is an `AddressInfoError`) before
/// `gethostbyname_r`; `gethostbyaddr` turns a name into its first address
/// before `gethostbyaddr_r`.
struct SystemLookups<Runner: BlockingRunner>: Sendable {
    /// Runs the blocking halves.
    let runner: Runner

    private func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await runner.run(work)
    }

    func getaddrinfo(host: String?, port: ServicePort?, family: AddressFamily, type: SocketType,
                     proto: IPProtocol, flags: AddressInfoFlags) async throws -> [AddressInfo] {
        switch try LookupFrontEnd.addressPlan(host: host, port: port, family: family, type: type, proto: proto, flags: flags) {
        case .answer(let results): return results
        case .local(let query): return try query.run()
        case .lookup(let query): return try await run { try query.run() }
        }
    }

    func gethostbyname(_ host: String) async throws -> String {
        switch try LookupFrontEnd.hostByNamePlan(host) {
        case .answer(let address): return address
        case .local(let name), .lookup(let name): return try await run { try Self.firstIPv4(name) }
        }
    }

    func gethostbynameEx(_ host: String) async throws -> HostEntry {
        switch try LookupFrontEnd.hostEntryPlan(host) {
        case .answer(let entry): return entry
        case .local(let name), .lookup(let name): return try await run { try Self.hostEntry(name) }
        }
    }

    func gethostbyaddr(_ address: String) async throws -> HostEntry {
        switch try LookupFrontEnd.hostByAddressPlan(address) {
        case .answer(let entry): return entry
        case .local(let name), .lookup(let name): return try await run { try Self.reverseEntry(name) }
        }
    }

    func getnameinfo(_ address: SocketAddress, flags: NameInfoFlags) async throws -> (host: String, service: String) {
        switch try LookupFrontEnd.nameInfoPlan(address, flags: flags) {
        case .answer(let names): return names
        case .local(let query): return try query.run()
        case .lookup(let query):
            let names = try await run { try query.run() }
            return names
        }
    }

    // MARK: Blocking halves (run by the runner)

    /// The first address of `getaddrinfo(name, nil, AF_INET)`, as text.
    static func firstIPv4(_ name: String) throws -> String {
        let results = try SystemCalls.addressInfo(host: name, service: nil, family: AF_INET, type: 0, proto: 0, flags: 0)
        guard let first = results.first else { throw AddressInfoError(code: AddressInfoError.noName) }
        return first.address.host
    }

    /// `gethostbyname_r(name)` after `getaddrinfo` has vouched for the name.
    static func hostEntry(_ name: String) throws -> HostEntry {
        _ = try firstIPv4(name)
        let (entry, family) = try SystemCalls.hostByName(name)
        guard family == AF_INET else { throw SystemError(code: EAFNOSUPPORT) }
        return entry
    }

    /// `gethostbyaddr_r` of `name`'s address (the name itself when it is a
    /// literal, else its first `getaddrinfo` result).
    static func reverseEntry(_ name: String) throws -> HostEntry {
        let (bytes, family) = try addressBytes(name)
        let (entry, entryFamily) = try SystemCalls.hostByAddress(bytes, family: family)
        guard entryFamily == family else { throw SystemError(code: EAFNOSUPPORT) }
        return entry
    }

    /// The raw address for `name`, as CPython's `setipaddr(name, AF_UNSPEC)` finds it.
    static func addressBytes(_ name: String) throws -> ([UInt8], Int32) {
        var v4 = in_addr()
        if inet_pton(AF_INET, name, &v4) == 1 { return (withUnsafeBytes(of: v4) { Array($0) }, AF_INET) }
        var v6 = in6_addr()
        if !name.utf8.contains(UInt8(ascii: "%")), inet_pton(AF_INET6, name, &v6) == 1 {
            return (withUnsafeBytes(of: v6) { Array($0) }, AF_INET6)
        }
        let results = try SystemCalls.addressInfo(host: name, service: nil, family: AF_UNSPEC, type: 0, proto: 0, flags: 0)
        guard let first = results.first else { throw AddressInfoError(code: AddressInfoError.noName) }
        switch first.address {
        case .inet(let host, _):
            _ = inet_pton(AF_INET, host, &v4)
            return (withUnsafeBytes(of: v4) { Array($0) }, AF_INET)
        case .inet6(let host, _, _, _):
            _ = inet_pton(AF_INET6, host, &v6)
            return (withUnsafeBytes(of: v6) { Array($0) }, AF_INET6)
        case .unix:
            throw AddressInfoError(code: AddressInfoError.family)
        }
    }
}

/// Where a system backend runs blocking C-library work.
protocol BlockingRunner: Sendable {
    /// Runs `work` and returns its result (or throws its error).
    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T
}
