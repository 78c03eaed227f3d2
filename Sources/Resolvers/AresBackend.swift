/// `makeResolver(kind: .ares, ...)` and the hub's resolver list reach the
/// c-ares backend through this conformance.
extension AresResolver: ResolverBackend {
    /// `.ares`.
    public static var kind: ResolverKind { .ares }

    /// Makes a resolver on `hub` from the c-ares fields of `options`.
    ///
    /// - Throws: `InvalidArgument` for a bad nameserver, port or value, and
    ///   what `init(hub:options:)` throws.
    public static func make(options: ResolverOptions, hub: Hub?) throws -> AresResolver {
        try AresResolver(hub: hub, options: AresOptions(options))
    }
}

extension AresOptions {
    /// The c-ares settings `ResolverOptions` carries; the rest keep their defaults.
    ///
    /// - Throws: `InvalidArgument` for a nameserver that does not parse or a
    ///   port outside 1...65535.
    public init(_ options: ResolverOptions) throws {
        self.init()
        nameservers = try options.nameservers.map { try AresNameserver(parsing: $0) }
        timeout = options.timeout
        tries = options.tries
        ndots = options.ndots
        udpPort = try options.udpPort.map { try Self.port($0, "udpPort") }
        tcpPort = try options.tcpPort.map { try Self.port($0, "tcpPort") }
        if let flags = options.flags { self.flags = AresFlags(rawValue: flags) }
        try validate()
    }

    private static func port(_ value: Int, _ name: String) throws -> UInt16 {
        guard (1...65535).contains(value) else { throw InvalidArgument("\(name) must be 1-65535, got \(value)") }
        return UInt16(value)
    }
}
