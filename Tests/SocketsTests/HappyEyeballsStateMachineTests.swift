@testable import Sockets
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The ordering rules of RFC 8305, checked on the state machine alone.
@Suite("Happy Eyeballs state machine")
struct HappyEyeballsStateMachineTests {
    typealias Machine = HappyEyeballsStateMachine

    let v6a = SocketAddress.inet6(host: "2001:db8::a", port: 80)
    let v6b = SocketAddress.inet6(host: "2001:db8::b", port: 80)
    let v4a = SocketAddress.inet(host: "192.0.2.10", port: 80)
    let v4b = SocketAddress.inet(host: "192.0.2.11", port: 80)

    /// A compact form of actions, for comparing.
    func names(_ actions: [Machine.Action]) -> [String] {
        actions.map { action in
            switch action {
            case .startResolutionDelay: return "resolution-delay"
            case .startAttempt(let attempt, let address): return "attempt \(attempt) \(address)"
            case .startAttemptDelay(let timer): return "timer \(timer)"
            case .succeed(let attempt): return "succeed \(attempt)"
            case .failConnecting(let failures, let lookups):
                return "fail \(failures.map { $0.attempt })" + lookups.map { " \($0.family) lookup: \($0.error)" }.joined()
            case .failResolving(let error): return "fail resolving \(error)"
            }
        }
    }

    @Test func anAAAAAnswerStartsConnectingAtOnce() {
        var machine = Machine()
        #expect(names(machine.handle(.resolved(.v6, [v6a]))) == ["attempt 0 [2001:db8::a]:80", "timer 0"])
    }

    @Test func anAAnswerFirstWaitsTheResolutionDelayForAAAA() {
        var machine = Machine()
        #expect(names(machine.handle(.resolved(.v4, [v4a]))) == ["resolution-delay"])
        // AAAA arrives within the delay: IPv6 goes first.
        #expect(names(machine.handle(.resolved(.v6, [v6a]))) == ["attempt 0 [2001:db8::a]:80", "timer 0"])
        #expect(names(machine.handle(.resolutionDelayElapsed)) == [])
    }

    @Test func afterTheResolutionDelayIPv4StartsAndIPv6JoinsLater() {
        var machine = Machine()
        _ = machine.handle(.resolved(.v4, [v4a, v4b]))
        #expect(names(machine.handle(.resolutionDelayElapsed)) == ["attempt 0 192.0.2.10:80", "timer 0"])
        // IPv6 comes in late: it is next, ahead of the second IPv4 address.
        #expect(names(machine.handle(.resolved(.v6, [v6a]))) == [])
        #expect(names(machine.handle(.attemptDelayElapsed(timer: 0))) == ["attempt 1 [2001:db8::a]:80", "timer 1"])
        #expect(names(machine.handle(.attemptDelayElapsed(timer: 1))) == ["attempt 2 192.0.2.11:80", "timer 2"])
    }

    @Test func familiesAlternateStartingWithIPv6() {
        var machine = Machine()
        _ = machine.handle(.resolved(.v4, [v4a, v4b]))
        var started = names(machine.handle(.resolved(.v6, [v6a, v6b])))
        for timer in 0..<3 { started += names(machine.handle(.attemptDelayElapsed(timer: timer))) }
        #expect(started.filter { $0.hasPrefix("attempt") } == [
            "attempt 0 [2001:db8::a]:80", "attempt 1 192.0.2.10:80", "attempt 2 [2001:db8::b]:80", "attempt 3 192.0.2.11:80",
        ])
    }

    @Test func aFailedAttemptStartsTheNextAtOnceAndItsStaleTimerIsIgnored() {
        var machine = Machine()
        _ = machine.handle(.resolved(.v6, [v6a]))
        _ = machine.handle(.resolved(.v4, [v4a, v4b]))
        let refused = SystemError(code: ECONNREFUSED)
        #expect(names(machine.handle(.attemptFailed(attempt: 0, refused))) == ["attempt 1 192.0.2.10:80", "timer 1"])
        // The first attempt's timer fires late: nothing new starts.
        #expect(names(machine.handle(.attemptDelayElapsed(timer: 0))) == [])
        #expect(names(machine.handle(.attemptDelayElapsed(timer: 1))) == ["attempt 2 192.0.2.11:80", "timer 2"])
    }

    @Test func theFirstSuccessWinsAndLaterEventsAreIgnored() {
        var machine = Machine()
        _ = machine.handle(.resolved(.v6, [v6a]))
        _ = machine.handle(.resolved(.v4, [v4a]))
        _ = machine.handle(.attemptDelayElapsed(timer: 0))
        #expect(names(machine.handle(.attemptSucceeded(attempt: 1))) == ["succeed 1"])
        #expect(machine.isFinished)
        #expect(names(machine.handle(.attemptSucceeded(attempt: 0))) == [])
    }

    @Test func whenEveryAttemptFailsAllErrorsAreReported() {
        var machine = Machine()
        _ = machine.handle(.resolved(.v6, [v6a]))
        _ = machine.handle(.resolved(.v4, [v4a]))
        _ = machine.handle(.attemptFailed(attempt: 0, SystemError(code: ENETUNREACH)))
        let last = machine.handle(.attemptFailed(attempt: 1, SystemError(code: ECONNREFUSED)))
        guard case .failConnecting(let failures, let failedLookups) = last.last else {
            Issue.record("expected a failure, got \(names(last))")
            return
        }
        #expect(failures.map { $0.address } == [v6a, v4a])
        #expect(failures.map { ($0.error as? SystemError)?.code } == [ENETUNREACH, ECONNREFUSED])
        #expect(failedLookups.isEmpty)
    }

    /// AAAA gave an address that refused; A failed (out of descriptors):
    /// the A lookup's error is part of the failure, not lost behind the refusal.
    @Test func aFailedLookupIsReportedWithTheAttemptsOfTheOtherFamily() {
        var machine = Machine()
        _ = machine.handle(.resolved(.v6, [v6a]))
        let actions = machine.handle(.attemptFailed(attempt: 0, SystemError(code: ECONNREFUSED)))
        #expect(names(actions) == [])
        #expect(names(machine.handle(.resolutionFailed(.v4, SystemError(code: EMFILE))))
            == ["fail [0] v4 lookup: \(SystemError(code: EMFILE))"])
    }

    @Test func noFailureIsReportedWhileALookupIsPending() {
        var machine = Machine()
        _ = machine.handle(.resolved(.v6, [v6a]))
        #expect(names(machine.handle(.attemptFailed(attempt: 0, SystemError(code: ENETUNREACH)))) == [])
        #expect(names(machine.handle(.resolved(.v4, [v4a]))) == ["attempt 1 192.0.2.10:80", "timer 1"])
    }

    @Test func whenBothLookupsFailTheIPv4ErrorIsReported() {
        var machine = Machine()
        _ = machine.handle(.resolutionFailed(.v6, AddressInfoError(code: AddressInfoError.noData)))
        let actions = machine.handle(.resolutionFailed(.v4, AddressInfoError(code: AddressInfoError.noName)))
        #expect(names(actions) == ["fail resolving [Errno -2] Name or service not known"])
    }

    @Test func aFailedAAAALookupDoesNotWaitForTheResolutionDelay() {
        var machine = Machine()
        #expect(names(machine.handle(.resolved(.v4, [v4a]))) == ["resolution-delay"])
        #expect(names(machine.handle(.resolutionFailed(.v6, AddressInfoError(code: AddressInfoError.noData))))
            == ["attempt 0 192.0.2.10:80", "timer 0"])
    }

    @Test func emptyAnswersEverywhereFailWithNoAddress() {
        var machine = Machine()
        _ = machine.handle(.resolved(.v6, []))
        let actions = machine.handle(.resolved(.v4, []))
        #expect(names(actions).first?.hasPrefix("fail resolving") == true)
    }
}
