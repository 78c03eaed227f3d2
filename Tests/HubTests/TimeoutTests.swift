import EvergreenHub
import EvergreenTestSupport
import Testing

@Suite("Timeout scopes and timers", .timeLimit(.minutes(1)))
struct TimeoutTests {
    @Test func aScopeInterruptsTheWaitItEnclosesAndThrowsTimedOut() async throws {
        let pipe = try TestPipe()
        defer { pipe.close() }
        let error = await #expect(throws: TimeoutError.self) {
            try await testHub.run { try await withTimeout(.milliseconds(20)) { try await waitRead(pipe.readEnd) } }
        }
        #expect(error.map { "\($0)" } == "timed out")
    }

    @Test func aScopeThatIsNotReachedReturnsTheBodyResult() async throws {
        let value = try await testHub.run { try await withTimeout(.seconds(30)) { 7 } }
        #expect(value == 7)
        let never = try await testHub.run { try await withTimeout(nil) { 8 } }
        #expect(never == 8)
    }

    @Test func theQuietVariantReturnsNil() async throws {
        let result: Int? = try await testHub.run {
            try await withTimeoutOrNil(.milliseconds(10)) { try await testHub.sleep(for: .seconds(30)); return 1 }
        }
        #expect(result == nil)
    }

    @Test func aGivenErrorIsThrownAsGiven() async throws {
        await #expect(throws: CustomTimeout()) {
            try await testHub.run {
                try await withTimeout(.milliseconds(10), throwing: CustomTimeout()) { try await testHub.sleep(for: .seconds(30)) }
            }
        }
    }

    @Test func nestedScopesReportTheOneThatExpired() async throws {
        // The outer scope expires first: the inner one must not claim it.
        let outer: String? = try await testHub.run {
            try await withTimeoutOrNil(.milliseconds(10)) { () async throws -> String in
                do {
                    try await withTimeout(.seconds(30), throwing: CustomTimeout()) { try await testHub.sleep(for: .seconds(60)) }
                    return "inner returned"
                } catch is CustomTimeout {
                    return "inner claimed it"
                }
            }
        }
        #expect(outer == nil)
        // The inner scope expires first: the outer one keeps running.
        let inner: String? = try await testHub.run {
            try await withTimeoutOrNil(.seconds(30)) { () async throws -> String in
                let r: Int? = try await withTimeoutOrNil(.milliseconds(10)) { try await testHub.sleep(for: .seconds(60)); return 1 }
                return r == nil ? "inner expired" : "inner finished"
            }
        }
        #expect(inner == "inner expired")
    }

    @Test func scopesInterruptThreadPoolWork() async throws {
        let release = Event()
        defer { release.fire() }
        await #expect(throws: TimeoutError.self) {
            try await testHub.run { try await withTimeout(.milliseconds(20)) { try await testHub.threadPool.run { release.waitBlocking() } } }
        }
    }

    @Test func sleepTakesAtLeastItsDurationAndIsCancellable() async throws {
        let clock = ContinuousClock()
        let start = clock.now
        try await testHub.sleep(for: .milliseconds(15))
        #expect(start.duration(to: clock.now) >= .milliseconds(15))
        let sleeper = testHub.spawn { try await testHub.sleep(for: .seconds(3600)) }
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
    }

    @Test func negativeDurationsAreErrors() async throws {
        await #expect(throws: HubError.self) { try await testHub.sleep(for: .seconds(-1)) }
        await #expect(throws: HubError.self) { try await testHub.run { try await withTimeout(.seconds(-1)) { 1 } } }
    }
}
