import Logging

/// A resolver that logs every lookup of the resolver it wraps at `debug`:
/// one line with the call, the name, the result (or error) and the time,
/// e.g. `getaddrinfo example.test -> 192.0.2.10, 2001:db8::10 (thread, 0.412 ms)`.
///
/// A decorator in the spirit of SwiftNIO's resolver wrappers: it changes no
/// answer and adds nothing but the log line. A hub's configured resolver is
/// wrapped in one when the log level (`EVERGREEN_LOG`) is `debug` or finer.
public struct LoggingResolver: Resolver {
    /// The resolver that answers.
    public let base: any Resolver
    /// Where the lines go.
    public let logger: Logger

    /// Wraps `base`, logging to `logger`.
    public init(_ base: any Resolver, logger: Logger) {
        self.base = base
        self.logger = logger
    }

    /// The wrapped backend's name.
    public var name: String { base.name }

    /// `base.getaddrinfo`, logged with the unique addresses.
    public func getaddrinfo(host: String?, port: ServicePort?, family: AddressFamily, type: SocketType,
                            proto: IPProtocol, flags: AddressInfoFlags) async throws -> [AddressInfo] {
        try await logged("getaddrinfo", host ?? "nil", { Self.summary($0.map { $0.address.host }) }) {
            try await base.getaddrinfo(host: host, port: port, family: family, type: type, proto: proto, flags: flags)
        }
    }

    /// `base.gethostbyname`, logged.
    public func gethostbyname(_ host: String) async throws -> String {
        try await logged("gethostbyname", host, { $0 }) { try await base.gethostbyname(host) }
    }

    /// `base.gethostbynameEx`, logged with the addresses.
    public func gethostbynameEx(_ host: String) async throws -> HostEntry {
        try await logged("gethostbyname_ex", host, { Self.summary($0.addresses) }) { try await base.gethostbynameEx(host) }
    }

    /// `base.gethostbyaddr`, logged with the name.
    public func gethostbyaddr(_ address: String) async throws -> HostEntry {
        try await logged("gethostbyaddr", address, { $0.name }) { try await base.gethostbyaddr(address) }
    }

    /// `base.getnameinfo`, logged with the host and service.
    public func getnameinfo(_ address: SocketAddress, flags: NameInfoFlags) async throws -> (host: String, service: String) {
        try await logged("getnameinfo", "\(address)", { "\($0.host) \($0.service)" }) {
            try await base.getnameinfo(address, flags: flags)
        }
    }

    /// Closes the wrapped resolver.
    public func close() async { await base.close() }

    /// Starts closing the wrapped resolver.
    public func beginClose() { base.beginClose() }

    /// Runs `call`, then logs one line (only when `debug` is on: no clock
    /// reads otherwise).
    private func logged<T>(_ call: String, _ name: String, _ describe: (T) -> String,
                           _ body: () async throws -> T) async throws -> T {
        guard logger.logLevel <= .debug else { return try await body() }
        let clock = ContinuousClock()
        let start = clock.now
        do {
            let result = try await body()
            let milliseconds = start.duration(to: clock.now).seconds * 1000
            logger.debug("\(call) \(name) -> \(describe(result)) (\(base.name), \(Self.format(milliseconds)) ms)",
                         metadata: ["backend": "\(base.name)", "name": "\(name)"])
            return result
        } catch {
            let milliseconds = start.duration(to: clock.now).seconds * 1000
            logger.debug("\(call) \(name) -> error \(error) (\(base.name), \(Self.format(milliseconds)) ms)",
                         metadata: ["backend": "\(base.name)", "name": "\(name)"])
            throw error
        }
    }

    /// The unique entries, in order, at most eight.
    static func summary(_ items: [String]) -> String {
        var seen = Set<String>()
        let unique = items.filter { seen.insert($0).inserted }
        guard !unique.isEmpty else { return "(none)" }
        let shown = unique.prefix(8).joined(separator: ", ")
        return unique.count > 8 ? shown + ", ... (\(unique.count))" : shown
    }

    /// Three decimals.
    static func format(_ value: Double) -> String {
        let thousandths = Int((value * 1000).rounded())
        let fraction = String(thousandths % 1000)
        return "\(thousandths / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}
