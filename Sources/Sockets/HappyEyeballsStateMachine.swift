/// Happy Eyeballs (RFC 8305) as a pure state machine: the driver
/// (`HappyEyeballsConnector`) feeds it what happened (a lookup finished, a
/// timer fired, an attempt connected or failed) and performs the actions it
/// returns (start a timer, start an attempt, finish). It does no I/O, so its
/// every ordering decision is testable on its own.
///
/// The rules, after RFC 8305:
/// - Both families are looked up at once. AAAA answers start connecting at
///   once; if A answers first, connecting starts after the resolution delay
///   (50 ms) or when AAAA answers, whichever is first (section 3).
/// - Addresses alternate between families, IPv6 first (section 4).
/// - One attempt starts; the next starts when the connection-attempt delay
///   (250 ms) passes or when an attempt fails, whichever is first, while the
///   earlier attempts keep running (section 5).
/// - The first attempt to connect wins. When every attempt failed and no
///   lookup is pending, the whole connect fails with every attempt's error
///   and the error of a lookup that failed (its family's addresses were
///   never tried, which may be why nothing connected).
struct HappyEyeballsStateMachine {
    /// The two address families raced.
    enum Family: Sendable, Equatable {
        case v6, v4

        /// The socket address family looked up and connected for it.
        var addressFamily: AddressFamily { self == .v6 ? .inet6 : .inet }
    }

    /// Something that happened.
    enum Event: Sendable {
        case resolved(Family, [SocketAddress])
        case resolutionFailed(Family, any Error)
        case resolutionDelayElapsed
        case attemptDelayElapsed(timer: Int)
        case attemptSucceeded(attempt: Int)
        case attemptFailed(attempt: Int, any Error)
    }

    /// Something for the driver to do.
    enum Action: Sendable {
        /// Send `.resolutionDelayElapsed` after the resolution delay.
        case startResolutionDelay
        /// Connect to `address`; report `.attemptSucceeded`/`.attemptFailed` with this id.
        case startAttempt(attempt: Int, address: SocketAddress)
        /// Send `.attemptDelayElapsed(timer:)` after the connection-attempt delay.
        case startAttemptDelay(timer: Int)
        /// Done: this attempt won; cancel everything else and close the losers.
        case succeed(attempt: Int)
        /// Done: every attempt failed (each with its error, in start order);
        /// `failedLookups` are the lookups that failed, IPv6's first.
        case failConnecting([(attempt: Int, address: SocketAddress, error: any Error)],
                            failedLookups: [(family: Family, error: any Error)])
        /// Done: neither lookup gave an address; this is the error to report.
        case failResolving(any Error)
    }

    private enum Lookup {
        case pending
        case answered
        case failed(any Error)

        var isPending: Bool {
            if case .pending = self { return true }
            return false
        }
    }

    private var v6Lookup = Lookup.pending
    private var v4Lookup = Lookup.pending
    private var v6Queue: [SocketAddress] = []
    private var v4Queue: [SocketAddress] = []
    private var preferred = Family.v6
    /// Connecting has begun (after the first AAAA answer, the resolution delay, or both lookups).
    private var connecting = false
    /// The connection-attempt delay timer running now, if any: no new attempt until it fires.
    private var runningTimer: Int?
    private var nextTimer = 0
    private var nextAttempt = 0
    private var inFlight: Set<Int> = []
    private var failures: [(attempt: Int, address: SocketAddress, error: any Error)] = []
    private var addresses: [Int: SocketAddress] = [:]
    /// Set once `succeed` or a failure was returned; later events are ignored.
    private(set) var isFinished = false

    /// The address an attempt was started with.
    func address(ofAttempt attempt: Int) -> SocketAddress? { addresses[attempt] }

    /// Takes in `event` and returns what to do, in order.
    mutating func handle(_ event: Event) -> [Action] {
        guard !isFinished else { return [] }
        var actions: [Action] = []
        switch event {
        case .resolved(let family, let found):
            if family == .v6 {
                v6Lookup = .answered
                v6Queue.append(contentsOf: found)
                if !found.isEmpty || !v4Lookup.isPending { connecting = true }
            } else {
                v4Lookup = .answered
                v4Queue.append(contentsOf: found)
                if !v6Lookup.isPending {
                    connecting = true
                } else if !connecting, !found.isEmpty {
                    actions.append(.startResolutionDelay)
                }
            }
        case .resolutionFailed(let family, let error):
            if family == .v6 { v6Lookup = .failed(error) } else { v4Lookup = .failed(error) }
            if !v6Lookup.isPending, !v4Lookup.isPending { connecting = true }
            // A failed AAAA lookup need not wait for the resolution delay.
            if family == .v6, !v4Queue.isEmpty { connecting = true }
        case .resolutionDelayElapsed:
            connecting = true
        case .attemptDelayElapsed(let timer):
            if timer == runningTimer { runningTimer = nil }
        case .attemptSucceeded(let attempt):
            guard inFlight.contains(attempt) else { return [] }
            isFinished = true
            return [.succeed(attempt: attempt)]
        case .attemptFailed(let attempt, let error):
            guard inFlight.remove(attempt) != nil else { return [] }
            failures.append((attempt, addresses[attempt]!, error))
            // A failure starts the next attempt at once.
            runningTimer = nil
        }
        startNextAttempt(into: &actions)
        if let finish = finishIfExhausted() { actions.append(finish) }
        return actions
    }

    /// Starts the next attempt when connecting has begun, no attempt delay
    /// is running and an address is left.
    private mutating func startNextAttempt(into actions: inout [Action]) {
        guard connecting, runningTimer == nil, let address = popAddress() else { return }
        let attempt = nextAttempt
        nextAttempt += 1
        inFlight.insert(attempt)
        addresses[attempt] = address
        let timer = nextTimer
        nextTimer += 1
        runningTimer = timer
        actions.append(.startAttempt(attempt: attempt, address: address))
        actions.append(.startAttemptDelay(timer: timer))
    }

    /// The next address, alternating families, preferring IPv6.
    private mutating func popAddress() -> SocketAddress? {
        let order: [Family] = preferred == .v6 ? [.v6, .v4] : [.v4, .v6]
        for family in order {
            if family == .v6, !v6Queue.isEmpty {
                preferred = .v4
                return v6Queue.removeFirst()
            }
            if family == .v4, !v4Queue.isEmpty {
                preferred = .v6
                return v4Queue.removeFirst()
            }
        }
        return nil
    }

    /// The failure to report once nothing is running, queued or being looked up.
    private mutating func finishIfExhausted() -> Action? {
        guard inFlight.isEmpty, v6Queue.isEmpty, v4Queue.isEmpty, !v6Lookup.isPending, !v4Lookup.isPending else {
            return nil
        }
        isFinished = true
        if !failures.isEmpty {
            var failedLookups: [(family: Family, error: any Error)] = []
            if case .failed(let error) = v6Lookup { failedLookups.append((.v6, error)) }
            if case .failed(let error) = v4Lookup { failedLookups.append((.v4, error)) }
            return .failConnecting(failures, failedLookups: failedLookups)
        }
        // No address at all: report the lookup error (IPv4's, as a plain
        // AF_INET lookup would), else "no address".
        if case .failed(let error) = v4Lookup { return .failResolving(error) }
        if case .failed(let error) = v6Lookup { return .failResolving(error) }
        return .failResolving(AddressInfoError(code: AddressInfoError.noData))
    }
}
