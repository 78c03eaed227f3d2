import EvergreenTestSupport
import Resolvers
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Options for a channel that only ever talks to `server` (never the
/// machine's configured nameserver), with every system default pinned so
/// that the host's resolv.conf cannot change what a test sees.
func aresTestOptions(_ server: FakeDNSServer, timeout: Duration = .seconds(2), tries: Int = 1) throws -> AresOptions {
    try aresTestOptions(nameserver: server.address, timeout: timeout, tries: tries)
}

/// The same for any loopback server given as `IP:PORT`.
func aresTestOptions(nameserver: String, timeout: Duration = .seconds(2), tries: Int = 1) throws -> AresOptions {
    var options = AresOptions()
    options.nameservers = [try AresNameserver(parsing: nameserver)]
    options.timeout = timeout
    options.tries = tries
    options.ndots = 1
    options.searchDomains = []
    options.rotate = false
    options.lookups = [.dns]
    return options
}

/// A fresh hub, fake server and resolver for one test, torn down afterwards.
@discardableResult
func withAresFixture<T>(
    timeout: Duration = .seconds(2), tries: Int = 1, configure: (inout AresOptions) -> Void = { _ in },
    _ body: (AresResolver, FakeDNSServer, Hub) async throws -> T
) async throws -> T {
    let server = try FakeDNSServer()
    defer { server.stop() }
    let hub = Hub(name: "ares-test", threadPoolSize: 1)
    defer { hub.shutdown() }
    // Under a sanitizer everything runs several times slower; a query held
    // by the server must not time out before the test acts on it.
    var options = try aresTestOptions(server, timeout: timeout * testSlowdown, tries: tries)
    configure(&options)
    let resolver = try AresResolver(hub: hub, options: options)
    return try await body(resolver, server, hub)
}

/// Elapsed wall time of `body`, for generous upper-bound sanity checks only.
func aresElapsed(_ body: () async throws -> Void) async rethrows -> Duration {
    let clock = ContinuousClock()
    let start = clock.now
    try await body()
    return start.duration(to: clock.now)
}

/// The c-ares error a call gives for an unmapped status, as gevent words it.
func aresError(_ code: Int32, _ name: String, _ text: String) -> AddressInfoError {
    AddressInfoError(code: code, message: "\(name): \(text)")
}
