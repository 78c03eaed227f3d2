import ArgumentParser
import Sockets

/// The c-ares settings a command takes (`@OptionGroup var ares: AresCommandOptions`):
/// `--nameserver IP[:PORT]` (repeatable), `--timeout SECONDS`, `--tries N`.
/// Unset ones come from resolv.conf, as for any `AresResolver`.
struct AresCommandOptions: ParsableArguments {
    @Option(name: .customLong("nameserver"),
            help: ArgumentHelp("ares: a DNS server, IP, IPv4:PORT or [IPv6]:PORT; repeat for more (default: resolv.conf's).",
                               valueName: "IP[:PORT]"))
    var nameservers: [String] = []

    @Option(help: ArgumentHelp("ares: seconds to wait for one try, fractions allowed (default: resolv.conf's).",
                               valueName: "SECONDS"))
    var timeout: Double?

    @Option(help: ArgumentHelp("ares: tries per server (default: resolv.conf's).", valueName: "N"))
    var tries: Int?

    /// Whether any c-ares setting was given.
    var isEmpty: Bool { nameservers.isEmpty && timeout == nil && tries == nil }

    func validate() throws {
        for server in nameservers {
            do { _ = try AresNameserver(parsing: server) } catch { throw ValidationError("--nameserver: \(error)") }
        }
        if let timeout, !(timeout > 0 && timeout <= 86_400) {
            throw ValidationError("--timeout must be more than 0 seconds (at most a day), got \(timeout)")
        }
        if let tries, !(1...1000).contains(tries) { throw ValidationError("--tries must be 1-1000, got \(tries)") }
    }

    /// `base` with these settings, for `makeResolver(kind: .ares, ...)`.
    func resolverOptions(_ base: ResolverOptions = ResolverOptions()) -> ResolverOptions {
        var options = base
        if !nameservers.isEmpty { options.nameservers = nameservers }
        if let timeout { options.timeout = .nanoseconds(Int64((timeout * 1e9).rounded())) }
        if let tries { options.tries = tries }
        return options
    }
}
