import Sockets
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// createConnection on loopback, with a fake resolver: a listener with a full
/// accept queue on [::1] makes the IPv6 attempt hang, as a dead route would.
@Suite("createConnection (Happy Eyeballs)", .timeLimit(.minutes(1)))
struct CreateConnectionTests {
    let fake = FakeResolver(v6: .init(addresses: ["::1"]), v4: .init(addresses: ["127.0.0.1"]))

    @Test func aHangingIPv6AttemptCostsOneDelayNotTheTimeout() async throws {
        let (winner, attempts, took) = try await onHub("he-v6-hangs") { [fake] _ in
            let v4 = try loopbackServer(.inet)
            defer { v4.close() }
            let port = try v4.localAddress().port
            let v6 = try await FullListener(family: .inet6, port: port)
            defer { v6.close() }
            let clock = ContinuousClock()
            let start = clock.now
            let connector = HappyEyeballsConnector(timeout: .seconds(10), connectionAttemptDelay: .milliseconds(100),
                                                   resolver: fake)
            let connection = try await connector.connect(host: "dual.fake.test", port: Int(port))
            let took = start.duration(to: clock.now)
            #expect(connection.socket.timeout == .seconds(10))
            connection.socket.close()
            return (connection.address, connection.attempts, took)
        }
        #expect(winner == .inet(host: "127.0.0.1", port: winner.port))
        #expect(attempts.count == 2)
        #expect(attempts.first?.address.family == .inet6)
        if case .abandoned = attempts[0].outcome {} else { Issue.record("IPv6 attempt: \(attempts[0])") }
        if case .connected = attempts[1].outcome {} else { Issue.record("IPv4 attempt: \(attempts[1])") }
        #expect(attempts[1].startedAfter >= .milliseconds(100))
        #expect(took < .seconds(5), "took \(took), the timeout being 10 s")
    }

    @Test func aRefusedIPv6AttemptFallsBackWithoutWaitingForTheDelay() async throws {
        let (winner, attempts, took) = try await onHub("he-v6-refused") { [fake] _ in
            let v4 = try loopbackServer(.inet)
            defer { v4.close() }
            let port = Int(try v4.localAddress().port)
            let clock = ContinuousClock()
            let start = clock.now
            let connector = HappyEyeballsConnector(connectionAttemptDelay: .seconds(20), resolver: fake)
            let connection = try await connector.connect(host: "dual.fake.test", port: port)
            connection.socket.close()
            return (connection.address, connection.attempts, start.duration(to: clock.now))
        }
        #expect(winner.family == .inet)
        #expect(attempts.count == 2)
        if case .failed(let error) = attempts[0].outcome {
            #expect((error as? SystemError)?.code == ECONNREFUSED)
        } else {
            Issue.record("IPv6 attempt: \(attempts[0])")
        }
        #expect(took < .seconds(10), "took \(took), the attempt delay being 20 s")
    }

    @Test func whenBothFamiliesWorkIPv6Wins() async throws {
        let (winner, attempts) = try await onHub("he-both") { [fake] _ in
            let v4 = try loopbackServer(.inet)
            defer { v4.close() }
            let port = try v4.localAddress().port
            let v6 = try createServer(address: .inet6(host: "::1", port: port))
            defer { v6.close() }
            let connection = try await HappyEyeballsConnector(connectionAttemptDelay: .seconds(5), resolver: fake)
                .connect(host: "dual.fake.test", port: Int(port))
            connection.socket.close()
            return (connection.address, connection.attempts)
        }
        #expect(winner == .inet6(host: "::1", port: winner.port))
        #expect(attempts.count == 1)
    }

    @Test func whenEveryAttemptFailsEachErrorIsReported() async throws {
        let error = try await onHub("he-all-fail") { [fake] _ in
            let refusing = try RefusingPort()
            defer { refusing.close() }
            return await #expect(throws: CreateConnectionError.self) {
                _ = try await createConnection(host: "dual.fake.test", port: refusing.port, resolver: fake)
            }
        }
        #expect(error?.attempts.count == 2)
        #expect(error?.attempts.map(\.address.family) == [.inet6, .inet])
        for attempt in error?.attempts ?? [] {
            guard case .failed(let failure) = attempt.outcome else {
                Issue.record("\(attempt)")
                continue
            }
            #expect((failure as? SystemError)?.code == ECONNREFUSED)
        }
        #expect((error?.lastError as? SystemError)?.code == ECONNREFUSED)
        #expect(error.map { "\($0)" }?.contains("Connection refused") == true)
    }

    @Test func theTimeoutIsOneDeadlineForTheWholeRace() async throws {
        try await onHub("he-timeout") { [fake] hub in
            let v4 = try await FullListener(family: .inet)
            defer { v4.close() }
            let v6 = try await FullListener(family: .inet6, port: v4.address.port)
            defer { v6.close() }
            let clock = ContinuousClock()
            let start = clock.now
            let error = await #expect(throws: TimeoutError.self) {
                _ = try await createConnection(host: "dual.fake.test", port: Int(v4.address.port), timeout: .milliseconds(150),
                                               connectionAttemptDelay: .milliseconds(50), resolver: fake)
            }
            #expect(error.map { "\($0)" } == "timed out")
            let took = start.duration(to: clock.now)
            #expect(took >= .milliseconds(150))
            #expect(took < .seconds(10), "took \(took)")  // a hang guard: both listeners never accept
            #expect(try await hub.statistics().pendingWaits == 0)
        }
    }

    @Test func cancellationClosesEverythingAndPropagates() async throws {
        try await onHub("he-cancel") { [fake] hub in
            let v4 = try await FullListener(family: .inet)
            defer { v4.close() }
            let v6 = try await FullListener(family: .inet6, port: v4.address.port)
            defer { v6.close() }
            let port = Int(v4.address.port)
            let racing = hub.spawn {
                _ = try await createConnection(host: "dual.fake.test", port: port, connectionAttemptDelay: .milliseconds(10),
                                               resolver: fake)
            }
            // Two connects and a timer (or more) are suspended.
            try await waitForPendingWaits(hub, atLeast: 3)
            racing.cancel()
            await #expect(throws: CancellationError.self) { try await racing.value }
            #expect(try await hub.statistics().pendingWaits == 0)
        }
    }

    /// AAAA gives [::1], which refuses; the A lookup fails (here: out of
    /// descriptors). The error names both, not only the refusal: the lookup
    /// is why 127.0.0.1 was never tried. A family with no address is no failure.
    @Test func aFailedLookupOfOneFamilyIsPartOfTheError() async throws {
        let halfFailing = FakeResolver(v6: .init(addresses: ["::1"]), v4: .init(error: SystemError(code: EMFILE)))
        let v4Missing = FakeResolver(v6: .init(addresses: ["::1"]),
                                     v4: .init(error: AddressInfoError(code: AddressInfoError.noData)))
        let (failed, missing) = try await onHub("he-half-lookup") { _ in
            let refusing = try RefusingPort()
            defer { refusing.close() }
            let port = refusing.port
            let failed = await #expect(throws: CreateConnectionError.self) {
                _ = try await createConnection(host: "half.fake.test", port: port, resolver: halfFailing)
            }
            let missing = await #expect(throws: CreateConnectionError.self) {
                _ = try await createConnection(host: "v6only.fake.test", port: port, resolver: v4Missing)
            }
            return (failed, missing)
        }
        #expect(failed?.attempts.map(\.address.family) == [.inet6])
        #expect(failed?.failedLookups.map(\.family) == [.inet])
        #expect((failed?.failedLookups.first?.error as? SystemError)?.code == EMFILE)
        #expect(failed.map { "\($0)" }?.contains("Connection refused; IPv4 lookup failed: \(SystemError(code: EMFILE))") == true)
        #expect(missing?.failedLookups.isEmpty == true)
        #expect((missing?.lastError as? SystemError)?.code == ECONNREFUSED)
    }

    @Test func aSlowAAAALookupDoesNotHoldUpIPv4() async throws {
        let slow = FakeResolver(v6: .init(addresses: ["::1"], delay: .seconds(20)), v4: .init(addresses: ["127.0.0.1"]))
        let (winner, took) = try await onHub("he-slow-aaaa") { _ in
            let v4 = try loopbackServer(.inet)
            defer { v4.close() }
            let clock = ContinuousClock()
            let start = clock.now
            let connection = try await HappyEyeballsConnector(resolver: slow)
                .connect(host: "slow.fake.test", port: Int(try v4.localAddress().port))
            connection.socket.close()
            return (connection.address, start.duration(to: clock.now))
        }
        #expect(winner.family == .inet)
        #expect(took >= .milliseconds(50))
        #expect(took < .seconds(10), "took \(took), the AAAA lookup taking 20 s")
        #expect(Set(slow.lookups) == [.inet, .inet6])
    }

    @Test func aLookupErrorIsReportedWhenNoAddressIsFound() async throws {
        let failing = FakeResolver(v6: .init(error: AddressInfoError(code: AddressInfoError.noData)),
                                   v4: .init(error: AddressInfoError(code: AddressInfoError.noName)))
        let error = try await onHub("he-no-address") { _ in
            await #expect(throws: AddressInfoError.self) {
                _ = try await createConnection(host: "nowhere.fake.test", port: 80, resolver: failing)
            }
        }
        #expect(error?.code == AddressInfoError.noName)
    }

    @Test func anIPLiteralNeedsNoLookup() async throws {
        try await onHub("he-literal") { _ in
            let server = try loopbackServer(.inet6)
            defer { server.close() }
            let socket = try await createConnection(host: "::1", port: Int(try server.localAddress().port))
            defer { socket.close() }
            #expect(try socket.remoteAddress() == server.localAddress())
        }
    }

    @Test func aSourceAddressIsBound() async throws {
        try await onHub("he-source") { _ in
            let server = try loopbackServer(.inet)
            defer { server.close() }
            let socket = try await createConnection(host: "127.0.0.1", port: Int(try server.localAddress().port),
                                                    sourceAddress: .inet(host: "127.0.0.2", port: 0))
            defer { socket.close() }
            #expect(try socket.localAddress().host == "127.0.0.2")
        }
    }

    @Test func createConnectionOffAHubIsAClearError() async throws {
        await #expect(throws: WrongHubError.self) { _ = try await createConnection(host: "127.0.0.1", port: 1) }
    }
}
