/// One connection attempt of `createConnection`, for reports and errors.
public struct ConnectionAttempt: Sendable, CustomStringConvertible {
    /// How an attempt ended.
    public enum Outcome: Sendable {
        /// It connected first: its socket was returned.
        case connected
        /// It failed with this error.
        case failed(any Error)
        /// It was still running (or connected too late) when another won;
        /// its socket was closed.
        case abandoned
    }

    /// The address tried.
    public let address: SocketAddress
    /// When it started, from the start of the whole connect.
    public let startedAfter: Duration
    /// How long it ran.
    public let duration: Duration
    /// How it ended.
    public let outcome: Outcome

    /// Creates a record.
    public init(address: SocketAddress, startedAfter: Duration, duration: Duration, outcome: Outcome) {
        self.address = address
        self.startedAfter = startedAfter
        self.duration = duration
        self.outcome = outcome
    }

    /// "[2001:db8::1]:80 at +0.0 ms, 250.3 ms: connected".
    public var description: String {
        let how: String
        switch outcome {
        case .connected: how = "connected"
        case .failed(let error): how = "failed: \(error)"
        case .abandoned: how = "abandoned"
        }
        return "\(address) at +\(milliseconds(startedAfter)), \(milliseconds(duration)): \(how)"
    }
}

/// `createConnection` failed: every attempt failed. Each attempt's error is
/// in `attempts`, in the order they started.
public struct CreateConnectionError: Error, Sendable, CustomStringConvertible {
    /// A lookup of one address family that failed while the other gave
    /// addresses: that family was never tried, which may be why nothing
    /// connected (a lookup out of descriptors, a timed-out AAAA query).
    public struct FailedLookup: Sendable, CustomStringConvertible {
        /// The family looked up: `.inet6` (AAAA) or `.inet` (A).
        public let family: AddressFamily
        /// Why it failed.
        public let error: any Error

        /// Creates a record.
        public init(family: AddressFamily, error: any Error) {
            self.family = family
            self.error = error
        }

        /// "IPv4 lookup failed: [Errno 24] Too many open files".
        public var description: String {
            "\(family == .inet6 ? "IPv6" : "IPv4") lookup failed: \(error)"
        }
    }

    /// The host asked for.
    public let host: String
    /// The port asked for.
    public let port: Int
    /// Every attempt, each with its error.
    public let attempts: [ConnectionAttempt]
    /// The lookups that failed, IPv6's first. A family that simply has no
    /// address ("no data", "name not known") is not a failure and is not here.
    public let failedLookups: [FailedLookup]

    /// Creates the error.
    public init(host: String, port: Int, attempts: [ConnectionAttempt], failedLookups: [FailedLookup] = []) {
        self.host = host
        self.port = port
        self.attempts = attempts
        self.failedLookups = failedLookups
    }

    /// The error of the last attempt to fail (what Python's `create_connection` raises).
    public var lastError: (any Error)? {
        for attempt in attempts.reversed() {
            if case .failed(let error) = attempt.outcome { return error }
        }
        return nil
    }

    /// "could not connect to host:port (2 attempts): ADDRESS: ERROR; ...",
    /// then "; IPv4 lookup failed: ERROR" for each failed lookup.
    public var description: String {
        let each = attempts.map { attempt -> String in
            if case .failed(let error) = attempt.outcome { return "\(attempt.address): \(error)" }
            return "\(attempt.address): \(attempt.outcome)"
        }
        return "could not connect to \(hostAndPort(host, port)) (\(attempts.count) attempt\(attempts.count == 1 ? "" : "s")): "
            + (each + failedLookups.map(\.description)).joined(separator: "; ")
    }
}

/// "host:port", with an IPv6 literal in brackets: "[::1]:80".
func hostAndPort(_ host: String, _ port: Int) -> String {
    host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
}

/// What `HappyEyeballsConnector.connect` returns: the winning socket and
/// how every attempt went.
public struct Connection {
    /// The connected socket.
    public let socket: Socket
    /// The address it connected to.
    public let address: SocketAddress
    /// Every attempt started, in start order (the winner included).
    public let attempts: [ConnectionAttempt]
}

/// "12.3 ms".
func milliseconds(_ duration: Duration) -> String {
    let (seconds, attoseconds) = duration.components
    let ms = Double(seconds) * 1000 + Double(attoseconds) / 1e15
    let tenths = (ms * 10).rounded() / 10
    return "\(tenths) ms"
}
