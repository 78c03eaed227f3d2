/// Connects to a host by racing its addresses, Happy Eyeballs style (RFC
/// 8305): both families are looked up at once, IPv6 is tried first, and
/// every `connectionAttemptDelay` without a connection another address is
/// tried while the earlier attempts go on. The first connection wins; the
/// others are closed. An unreachable IPv6 address so costs one delay, not
/// a whole timeout. `createConnection` is the short form.
///
/// ```swift
/// let connection = try await HappyEyeballsConnector(timeout: .seconds(5)).connect(host: "example.test", port: 80)
/// print(connection.address, connection.attempts)
/// ```
public struct HappyEyeballsConnector: Sendable {
    /// One deadline for the whole connect (lookups included); also the
    /// timeout of the socket returned. nil: none.
    public var timeout: Duration?
    /// The local address to bind each attempt's socket to, if any.
    public var sourceAddress: SocketAddress?
    /// How long an attempt runs alone before the next one starts (RFC 8305: 250 ms).
    public var connectionAttemptDelay: Duration
    /// How long to wait for the AAAA answer once the A answer is in (RFC 8305: 50 ms).
    public var resolutionDelay: Duration
    /// The resolver for names; nil: the hub's.
    public var resolver: (any Resolver)?

    /// Creates a connector.
    public init(timeout: Duration? = Socket.defaultTimeout, sourceAddress: SocketAddress? = nil,
                connectionAttemptDelay: Duration = .milliseconds(250), resolutionDelay: Duration = .milliseconds(50),
                resolver: (any Resolver)? = nil) {
        self.timeout = timeout
        self.sourceAddress = sourceAddress
        self.connectionAttemptDelay = connectionAttemptDelay
        self.resolutionDelay = resolutionDelay
        self.resolver = resolver
    }

    /// Connects to `host` (a name or an IP literal) and `port`. Must run in
    /// a task on a hub; the socket belongs to that hub.
    ///
    /// - Throws: `CreateConnectionError` with every attempt's error (and the
    ///   error of a lookup that failed for one family) when all fail; the
    ///   lookup error (`AddressInfoError`) when no address was found;
    ///   `TimeoutError` when `timeout` passes; `InvalidArgument` for a bad
    ///   port or negative durations; `WrongHubError` off a hub. Anything
    ///   else (`CancellationError`) closes every socket and propagates.
    public func connect(host: String, port: Int) async throws -> sending Connection {
        guard (0...65535).contains(port) else { throw InvalidArgument("port must be 0-65535, got \(port)") }
        _ = try validatedTimeout(timeout)
        guard connectionAttemptDelay >= .zero, resolutionDelay >= .zero else {
            throw InvalidArgument("Happy Eyeballs delays must not be negative")
        }
        guard let hub = Hub.current else {
            throw WrongHubError(what: "createConnection", hub: Hub.default.name, callerHub: nil)
        }
        let race = HappyEyeballsRace(connector: self, host: host, port: port, hub: hub)
        let outcome = try await withTimeout(timeout) { try await race.run() }
        let socket = try outcome.socket.value
        try socket.setTimeout(timeout)
        return Connection(socket: socket, address: outcome.address, attempts: outcome.attempts)
    }
}

/// Connects to `host` and `port` with Happy Eyeballs and returns the socket
/// (Python's `socket.create_connection`, done better). See
/// `HappyEyeballsConnector` for the details and the errors.
public func createConnection(host: String, port: Int, timeout: Duration? = Socket.defaultTimeout,
                             sourceAddress: SocketAddress? = nil, connectionAttemptDelay: Duration = .milliseconds(250),
                             resolver: (any Resolver)? = nil) async throws -> sending Socket {
    let connector = HappyEyeballsConnector(timeout: timeout, sourceAddress: sourceAddress,
                                           connectionAttemptDelay: connectionAttemptDelay, resolver: resolver)
    return try await connector.connect(host: host, port: port).socket
}

/// One run of the race: drives `HappyEyeballsStateMachine` with child tasks
/// for lookups, attempts and timers.
struct HappyEyeballsRace: Sendable {
    typealias Event = HappyEyeballsStateMachine.Event
    typealias Family = HappyEyeballsStateMachine.Family
    /// What a child task reports: an event, and the socket of an attempt that connected.
    typealias Report = (event: Event, socket: HubBound<Socket>?)

    let connector: HappyEyeballsConnector
    let host: String
    let port: Int
    let hub: Hub

    struct Outcome: Sendable {
        let socket: HubBound<Socket>
        let address: SocketAddress
        let attempts: [ConnectionAttempt]
    }

    /// Errors that fail one attempt; anything else ends the whole race.
    static func failsOneAttempt(_ error: any Error) -> Bool {
        error is SystemError || error is InvalidArgument || error is TimeoutError
    }

    /// A lookup "error" that only says the name has no address of that
    /// family: normal for a name with only A (or only AAAA) records.
    static func meansNoAddress(_ error: any Error) -> Bool {
        guard let error = error as? AddressInfoError else { return false }
        return [AddressInfoError.noData, AddressInfoError.noName, AddressInfoError.addressFamily].contains(error.code)
    }

    func run() async throws -> Outcome {
        let clock = ContinuousClock()
        let start = clock.now
        var machine = HappyEyeballsStateMachine()
        var started: [Int: ContinuousClock.Instant] = [:]
        var records: [Int: ConnectionAttempt] = [:]
        var actions: [HappyEyeballsStateMachine.Action] = []

        if SocketAddress.isNumericHost(host) {
            let address = try SocketAddress(numericHost: host, port: UInt16(port))
            actions += machine.handle(.resolved(.v6, address.family == .inet6 ? [address] : []))
            actions += machine.handle(.resolved(.v4, address.family == .inet ? [address] : []))
        }

        func record(_ attempt: Int, _ outcome: ConnectionAttempt.Outcome) {
            guard let begin = started[attempt], records[attempt] == nil,
                  let address = machine.address(ofAttempt: attempt) else { return }
            records[attempt] = ConnectionAttempt(address: address, startedAfter: start.duration(to: begin),
                                                 duration: begin.duration(to: clock.now), outcome: outcome)
        }
        func allRecords() -> [ConnectionAttempt] {
            records.keys.sorted().map { records[$0]! }
        }

        return try await withThrowingTaskGroup(of: Report.self) { group in
            defer { group.cancelAll() }
            if !SocketAddress.isNumericHost(host) {
                let resolver = try connector.resolver ?? hubResolver(hub)
                for family in [Family.v6, .v4] {
                    group.addTask { try await lookUp(family, with: resolver) }
                }
            }
            var winner: (attempt: Int, socket: HubBound<Socket>)?
            do {
                while true {
                    for action in actions {
                        switch action {
                        case .startResolutionDelay:
                            group.addTask {
                                try await hub.sleep(for: connector.resolutionDelay)
                                return (.resolutionDelayElapsed, nil)
                            }
                        case .startAttemptDelay(let timer):
                            group.addTask {
                                try await hub.sleep(for: connector.connectionAttemptDelay)
                                return (.attemptDelayElapsed(timer: timer), nil)
                            }
                        case .startAttempt(let attempt, let address):
                            started[attempt] = clock.now
                            group.addTask { try await connect(attempt, to: address) }
                        case .succeed:
                            break
                        case .failConnecting(_, let failedLookups):
                            throw CreateConnectionError(
                                host: host, port: port, attempts: allRecords(),
                                failedLookups: failedLookups.filter { !Self.meansNoAddress($0.error) }.map {
                                    .init(family: $0.family.addressFamily, error: $0.error)
                                })
                        case .failResolving(let error):
                            throw error
                        }
                    }
                    if let winner {
                        for attempt in started.keys where records[attempt] == nil { record(attempt, .abandoned) }
                        return Outcome(socket: winner.socket, address: machine.address(ofAttempt: winner.attempt)!,
                                       attempts: allRecords())
                    }
                    guard let report = try await group.next() else {
                        throw CancellationError()
                    }
                    actions = machine.handle(report.event)
                    switch report.event {
                    case .attemptSucceeded(let attempt):
                        if case .succeed = actions.first, let socket = report.socket {
                            record(attempt, .connected)
                            winner = (attempt, socket)
                        } else {
                            try? report.socket?.value.close()
                        }
                    case .attemptFailed(let attempt, let error):
                        record(attempt, .failed(error))
                    default:
                        break
                    }
                }
            } catch {
                // A lost race, a timeout or a cancellation: close every socket
                // that connected (or still might) before reporting.
                try? winner?.socket.value.close()
                group.cancelAll()
                await closeRemaining(&group)
                throw error
            }
        }
    }

    /// Cancels what is left and closes any socket that connected meanwhile.
    private func closeRemaining(_ group: inout ThrowingTaskGroup<Report, any Error>) async {
        group.cancelAll()
        while !group.isEmpty {
            if let report = try? await group.next(), let socket = report.socket {
                try? socket.value.close()
            }
        }
    }

    /// Looks up one family's addresses for the stream socket to connect.
    private func lookUp(_ family: Family, with resolver: any Resolver) async throws -> Report {
        do {
            let results = try await resolver.getaddrinfo(host: host, port: .number(port), family: family.addressFamily,
                                                         type: .stream, proto: .tcp, flags: [])
            var seen = Set<SocketAddress>()
            let addresses = results.map { $0.address.withPort(UInt16(port)) }
                .filter { $0.family == family.addressFamily && seen.insert($0).inserted }
            return (.resolved(family, addresses), nil)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            return (.resolutionFailed(family, error), nil)
        }
    }

    /// One attempt: a fresh socket, bound to the source address if given,
    /// connected with no timeout of its own (the race's deadline applies).
    private func connect(_ attempt: Int, to address: SocketAddress) async throws -> Report {
        let socket: Socket
        do {
            socket = try Socket(family: address.family, type: .stream, hub: hub)
        } catch {
            return (.attemptFailed(attempt: attempt, error), nil)
        }
        do {
            try socket.setTimeout(nil)
            if let source = connector.sourceAddress { try socket.bind(to: source) }
            try await socket.connect(to: address)
            return (.attemptSucceeded(attempt: attempt), HubBound(socket))
        } catch {
            socket.close()
            if Self.failsOneAttempt(error) { return (.attemptFailed(attempt: attempt, error), nil) }
            throw error
        }
    }
}
