import Synchronization

/// The process-wide default timeout in nanoseconds; -1 means none (nil).
private let defaultTimeoutNanoseconds = Atomic<Int64>(-1)

/// Checks a socket timeout: nil or non-negative.
func validatedTimeout(_ timeout: Duration?) throws -> Duration? {
    guard let timeout else { return nil }
    guard timeout >= .zero else { throw InvalidArgument("timeout must not be negative (got \(timeout))") }
    return timeout
}

extension Socket {
    /// How long each wait of this socket may take: nil waits forever, `.zero`
    /// never waits (an operation that would block throws EAGAIN at once), a
    /// positive duration applies to each wait (and to the whole of `connect`
    /// and `sendAll`). When it passes, `TimeoutError` ("timed out") is thrown.
    /// New sockets start with `Socket.defaultTimeout`.
    public var timeout: Duration? { storedTimeout }

    /// Sets `timeout`.
    ///
    /// - Throws: `InvalidArgument` for a negative duration; `WrongHubError` off the hub.
    public func setTimeout(_ timeout: Duration?) throws {
        guard hub.isCurrent else { throw wrongHub() }
        storedTimeout = try validatedTimeout(timeout)
    }

    /// The timeout new sockets start with (Python's `getdefaulttimeout()`);
    /// nil (wait forever) unless set.
    public static var defaultTimeout: Duration? {
        let ns = defaultTimeoutNanoseconds.load(ordering: .relaxed)
        return ns < 0 ? nil : .nanoseconds(ns)
    }

    /// Sets `defaultTimeout` for sockets made from now on, process-wide
    /// (Python's `setdefaulttimeout`).
    ///
    /// - Throws: `InvalidArgument` for a negative duration.
    public static func setDefaultTimeout(_ timeout: Duration?) throws {
        guard let timeout = try validatedTimeout(timeout) else {
            defaultTimeoutNanoseconds.store(-1, ordering: .relaxed)
            return
        }
        let (seconds, attoseconds) = timeout.components
        let (ns, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let total = overflow ? Int64.max : ns.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
        defaultTimeoutNanoseconds.store(max(0, total), ordering: .relaxed)
    }
}
