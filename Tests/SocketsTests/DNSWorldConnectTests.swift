import Sockets
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Connects through real names, with the hub's resolver, inside the test
/// namespace (`scripts/dnsworld run -- swift test`); skipped elsewhere, so
/// that no name ever reaches a real resolver. See Fixtures/dns/README.md.
@Suite("Connecting by name in the DNS test world", .enabled(if: inDNSWorld), .timeLimit(.minutes(1)))
struct DNSWorldConnectTests {
    /// deadv6.evergreen.test has AAAA 2001:db8:dead::1 (blackholed: its
    /// connect hangs) and A 192.0.2.1 (dummy0, where we listen). Happy
    /// Eyeballs must start the IPv4 attempt one attempt delay after the
    /// IPv6 one and answer with it, not wait out the connect timeout. The
    /// bounds are far from the timeout, not tight wall-clock goals: a loaded
    /// machine under a sanitizer takes seconds over a lookup.
    @Test func aBlackholedIPv6AddressCostsOneAttemptDelayNotTheTimeout() async throws {
        try addBlackholeRoute("2001:db8:dead::/48")
        let (address, attempts, took) = try await onHub("deadv6") { _ in
            let server = try createServer(address: .inet(host: "192.0.2.1", port: 0))
            defer { server.close() }
            let port = try server.localAddress().port
            let clock = ContinuousClock()
            let start = clock.now
            let connection = try await HappyEyeballsConnector(timeout: .seconds(30))
                .connect(host: "deadv6.evergreen.test", port: Int(port))
            connection.socket.close()
            return (connection.address, connection.attempts, start.duration(to: clock.now))
        }
        #expect(address.host == "192.0.2.1")
        #expect(attempts.first?.address.host == "2001:db8:dead::1")
        if case .abandoned = attempts.first?.outcome {} else { Issue.record("IPv6 attempt: \(attempts)") }
        #expect(attempts.count == 2)
        // The attempt delay (250 ms) separates the attempts: a timer never
        // fires early, and a gap near the timeout would mean it waited.
        let gap = (attempts.last?.startedAfter ?? .zero) - (attempts.first?.startedAfter ?? .zero)
        #expect(gap >= .milliseconds(250) && gap < .seconds(10), "IPv4 attempt \(gap) after the IPv6 one")
        #expect(took < .seconds(15), "connected after \(took), the timeout being 30 s")
    }

    @Test func connectByNameUsesTheHubResolver() async throws {
        let peer = try await onHub("by-name") { _ in
            let server = try createServer(address: .inet(host: "192.0.2.1", port: 0))
            defer { server.close() }
            let client = try Socket(family: .inet)
            defer { client.close() }
            try await client.connect(host: "here.evergreen.test", port: Int(try server.localAddress().port))
            return try client.remoteAddress()
        }
        #expect(peer.host == "192.0.2.1")
    }

    @Test func createConnectionPrefersIPv6WhenBothWork() async throws {
        let address = try await onHub("here-both") { _ in
            let server = try createServer(address: .inet6(host: "::", port: 0), dualStack: true)
            defer { server.close() }
            let socket = try await createConnection(host: "here.evergreen.test", port: Int(try server.localAddress().port),
                                                    timeout: .seconds(5))
            defer { socket.close() }
            return try socket.remoteAddress()
        }
        #expect(address.host == "2001:db8:1::1")
    }

    @Test func anUnknownNameIsALookupError() async throws {
        try await onHub("unknown-name") { _ in
            let error = await #expect(throws: AddressInfoError.self) {
                _ = try await createConnection(host: "nonexistent.evergreen.test", port: 80, timeout: .seconds(5))
            }
            #expect(error?.code == AddressInfoError.noName)
            let socket = try Socket()
            defer { socket.close() }
            await #expect(throws: AddressInfoError.self) { _ = try await socket.connectEx(host: "nonexistent.evergreen.test", port: 80) }
        }
    }

    @Test func connectingToAnUnreachableAddressTimesOut() async throws {
        try await onHub("unreachable") { _ in
            let socket = try Socket()
            defer { socket.close() }
            try socket.setTimeout(.milliseconds(100))
            // On-link on dummy0, which swallows packets: the SYN never comes back.
            await #expect(throws: TimeoutError.self) { try await socket.connect(to: .inet(host: "192.0.2.77", port: 80)) }
        }
    }
}

/// Routes `prefix` into the namespace's dummy interface, where packets
/// vanish, by running `scripts/dnsworld run --blackhole-ipv6 PREFIX -- true`:
/// inside a dnsworld namespace, that adds the route to the current one.
func addBlackholeRoute(_ prefix: String) throws {
    guard let dir = getenv("DNSWORLD_DIR").map({ String(cString: $0) }) else {
        throw TestFailure("DNSWORLD_DIR is not set")
    }
    let script = dir + "/../../scripts/dnsworld"
    let arguments = [script, "run", "--blackhole-ipv6", prefix, "--", "true"]
    var pid: pid_t = 0
    var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    let spawned = posix_spawn(&pid, script, nil, nil, &argv, environ)
    guard spawned == 0 else { throw SystemError(code: spawned) }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    // Exited normally with status 0 (the route may already exist: also fine).
    guard status == 0 else { throw TestFailure("\(arguments.joined(separator: " ")) failed: wait status \(status)") }
}
