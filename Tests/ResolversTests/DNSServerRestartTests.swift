import Resolvers
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The DNS server dies in the middle of a lookup storm and comes back
/// (issue 7): a private dnsmasq serving the DNS world's fixture zone on its
/// own loopback address and port (never the world's 127.0.0.1:53, which other tests
/// share), an ares resolver on one hub pointed at it.
///
/// Not covered: the thread and block backends. glibc takes its servers
/// only from /etc/resolv.conf (no port, no per-resolver setting) or from
/// the process-wide RES_OPTIONS/LOCALDOMAIN; pointing them elsewhere would
/// mean rewriting each pool thread's `_res` behind glibc's back, sockets
/// kept open by RES_STAYOPEN included. Killing the world's dnsmasq instead
/// would break every other test running at the same time.
@Suite("DNS server killed and restarted mid-storm",
       .enabled(if: insideDNSWorld, "needs the DNS world's fixture zone: run inside scripts/dnsworld"),
       .enabled(if: PrivateDNSMasq.binary != nil, "no dnsmasq"),
       .timeLimit(.minutes(2)))
struct DNSServerRestartTests {
    @Test func aresLookupsFailWithTheDocumentedErrorsThenRecoverOnTheSameResolver() async throws {
        let hub = Hub(name: "dns-restart", threadPoolSize: 1)
        defer { hub.shutdown() }
        try await hub.run {
            // An address no other test uses and a port below the ephemeral
            // range: while the server is down, nothing else can take it.
            let port = PrivateDNSMasq.port
            var server = try PrivateDNSMasq(port: port)
            defer { server.kill() }
            let resolver = try AresResolver(hub: hub, options: try aresTestOptions(
                nameserver: "\(PrivateDNSMasq.address):\(port)", timeout: .milliseconds(300), tries: 2))
            try await server.waitUntilAnswering(resolver)
            let aresBaseline = try await resolver.statistics()
            let hubBaseline = try await hub.statistics()
            #expect(aresBaseline == AresStatistics(lookupsInFlight: 0, sockets: 0, timerArmed: false))

            // A storm; SIGKILL once 300 lookups have succeeded.
            let storm = Storm(resolver: resolver, hub: hub)
            var succeeded = 0
            var failedAfterKill: [Storm.Outcome] = []
            var failedInFlight: [Storm.Outcome] = []
            for await outcome in storm.outcomes {
                switch (outcome.error, outcome.startedAfterKill) {
                case (nil, false): succeeded += 1
                case (nil, true): Issue.record("\(outcome.name) succeeded after the server was killed")
                case (_, false): failedInFlight.append(outcome)
                case (_, true): failedAfterKill.append(outcome)
                }
                if succeeded >= 300, !storm.killed.load(ordering: .acquiring) {
                    server.kill()
                    storm.killed.store(true, ordering: .releasing)
                }
                if failedAfterKill.count >= 100 { storm.stop() }
            }
            #expect(succeeded >= 300)
            #expect(failedAfterKill.count >= 100)
            // c-ares' own statuses, as documented on AresResolver.
            let documented = [aresError(11, "ARES_ECONNREFUSED", "Could not contact DNS servers"),
                              aresError(12, "ARES_ETIMEOUT", "Timeout while contacting DNS servers")]
            var kinds: [String: Int] = [:]
            for outcome in failedAfterKill + failedInFlight {
                kinds[outcome.error ?? "", default: 0] += 1
                #expect(outcome.addressInfoError.map { documented.contains($0) } == true, "\(outcome.name): \(outcome.error ?? "")")
                // Within c-ares' budget (2 tries of 0.3 s): a generous hang guard, not a timing goal.
                #expect(outcome.elapsed < .seconds(5), "\(outcome.name) took \(outcome.elapsed)")
            }
            let slowest = (failedAfterKill + failedInFlight).map(\.elapsed).max() ?? .zero
            #expect(try await resolver.statistics() == aresBaseline)

            // The same hub and resolver, once the server is back on its port.
            server = try PrivateDNSMasq(port: port)
            try await server.waitUntilAnswering(resolver)
            let again = Storm(resolver: resolver, hub: hub)
            var recovered = 0
            for await outcome in again.outcomes {
                if let error = outcome.error { Issue.record("after the restart: \(outcome.name): \(error)") }
                recovered += 1
                if recovered >= 500 { again.stop() }
            }
            #expect(recovered >= 500)
            // No lookup, socket, timer, watcher or wait left behind.
            #expect(try await resolver.statistics() == aresBaseline)
            let hubAfter = try await hub.statistics()
            #expect(hubAfter.pendingWaits == hubBaseline.pendingWaits)
            #expect(hubAfter.activeWatchers == hubBaseline.activeWatchers)
            await resolver.close()
            print("dns-restart: \(succeeded) ok before the kill; \(failedAfterKill.count) failed after it and "
                  + "\(failedInFlight.count) in flight at it: \(kinds); slowest failure \(slowest); "
                  + "\(recovered) ok after the restart")
        }
    }
}

/// Lookups of the bench names from `workers` tasks on the hub until
/// `stop()`; each outcome is reported on `outcomes`, which ends when the
/// last worker has stopped.
private final class Storm: Sendable {
    struct Outcome: Sendable {
        let name: String
        /// The error's description, nil on success.
        let error: String?
        let addressInfoError: AddressInfoError?
        let elapsed: Duration
        /// Started after `killed` was set.
        let startedAfterKill: Bool
    }

    let outcomes: AsyncStream<Outcome>
    /// Set by the test once the server is dead (reaped).
    let killed = Atomic<Bool>(false)
    private let stopped = Atomic<Bool>(false)

    init(resolver: AresResolver, hub: Hub, workers: Int = 8) {
        let (outcomes, sink) = AsyncStream<Outcome>.makeStream()
        self.outcomes = outcomes
        let running = Mutex(workers)
        for worker in 0..<workers {
            _ = hub.spawn { [self] in
                var index = worker
                while !stopped.load(ordering: .acquiring) {
                    let name = Storm.benchName(index % 10_000)
                    let afterKill = killed.load(ordering: .acquiring)
                    let start = ContinuousClock.now
                    var error: (any Error)?
                    do {
                        _ = try await resolver.getaddrinfo(host: name, family: .inet)
                    } catch let failure {
                        error = failure
                    }
                    sink.yield(Outcome(name: name, error: error.map { "\($0)" }, addressInfoError: error as? AddressInfoError,
                                       elapsed: start.duration(to: .now), startedAfterKill: afterKill))
                    index += workers
                }
                if running.withLock({ $0 -= 1; return $0 }) == 0 { sink.finish() }
            }
        }
    }

    func stop() { stopped.store(true, ordering: .releasing) }

    /// "b00042.bench.evergreen.test" for 42: the fixture's 10,000 bench names.
    static func benchName(_ number: Int) -> String {
        let digits = String(number)
        return "b" + String(repeating: "0", count: max(0, 5 - digits.count)) + digits + ".bench.evergreen.test"
    }
}

/// dnsmasq serving Fixtures/dns (as scripts/dnsworld starts it) on
/// `address`:`port`, its output discarded. Killed by `kill()`, and by the
/// kernel if the thread that started it ends first (setpriv --pdeathsig),
/// so a crashed test leaves no server behind.
private final class PrivateDNSMasq {
    static let binary: String? = ["/usr/sbin/dnsmasq", "/usr/bin/dnsmasq", "/sbin/dnsmasq"].first { access($0, X_OK) == 0 }
    private static let setpriv: String? = ["/usr/bin/setpriv", "/bin/setpriv"].first { access($0, X_OK) == 0 }

    let pid: pid_t
    private var reaped = false

    /// Where the private server listens: not the world's 127.0.0.1:53.
    static let address = "127.0.0.77"
    /// Below Linux's ephemeral ports (32768 and up), so no connection of
    /// another test takes it while the server is down.
    static let port: UInt16 = 5390

    init(port: UInt16) throws {
        guard let fixtures = getenv("DNSWORLD_DIR").map({ String(cString: $0) }), let binary = Self.binary else {
            throw ResolverTestFailure("no DNSWORLD_DIR or no dnsmasq")
        }
        let server = [binary, "--keep-in-foreground", "--conf-file=\(fixtures)/dnsmasq.conf",
                      "--no-resolv", "--no-hosts", "--no-poll", "--bind-interfaces",
                      "--listen-address=\(Self.address)", "--port=\(port)",
                      "--user=root", "--group=root", "--pid-file=", "--log-facility=-"]
        let guarded = Self.setpriv.map { [$0, "--pdeathsig", "KILL", "--"] } ?? []
        // The fixture's conf-file=bench.conf is relative: dnsmasq runs in the fixture directory.
        let arguments = ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", fixtures] + guarded + server
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd: Int32 in 0...2 { posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_RDWR, 0) }
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let rc = posix_spawn(&pid, arguments[0], &actions, nil, argv, environ)
        guard rc == 0 else { throw SystemError(code: rc) }
        self.pid = pid
    }

    deinit { kill() }

    /// SIGKILL and reap: when this returns the port is closed.
    func kill() {
        guard !reaped else { return }
        _ = Glibc.kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        reaped = true
    }

    /// Until a lookup through `resolver` works (dnsmasq gives no readiness
    /// signal; scripts/dnsworld probes the same way). Fails if dnsmasq exits.
    func waitUntilAnswering(_ resolver: AresResolver) async throws {
        let deadline = ContinuousClock.now.advanced(by: .seconds(20))
        while true {
            if (try? await resolver.getaddrinfo(host: "one.evergreen.test", family: .inet)) != nil { return }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                reaped = true
                throw ResolverTestFailure("dnsmasq exited with status \(status)")
            }
            guard ContinuousClock.now < deadline else { throw ResolverTestFailure("dnsmasq never answered") }
            try await resolver.hub.sleep(for: .milliseconds(20))
        }
    }
}

private struct ResolverTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
