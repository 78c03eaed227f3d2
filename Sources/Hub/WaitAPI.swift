import CLibev
#if canImport(Glibc)
import Glibc
#endif

// gevent.socket's wait API. Each raw-descriptor call makes a fresh watcher,
// so several tasks may wait on one descriptor and all wake. Called from a
// task that is not on a hub, these hop onto the default hub and back; they
// never block a thread.

/// Suspends the calling task until `fd` is readable.
///
/// - Parameters:
///   - timeout: nil waits forever; otherwise at most this long.
///   - onTimeout: what happens when the timeout passes; by default
///     `TimeoutError` ("timed out") is thrown.
/// - Returns: the events that fired (`[.read]`), or `[]` after a quiet timeout.
/// - Throws: `SystemError` (EBADF) for a negative or closed descriptor,
///   `TimeoutError`, `CancellationError`, `HubError.shutDown`.
@inlinable @discardableResult
public func waitRead(_ fd: Int32, timeout: Duration? = nil, onTimeout: OnTimeout = .throwTimeoutError) async throws -> IOEvents {
    try await Hub.waitIO(fd, events: IOEvents.read.rawValue, timeout: timeout, onTimeout: onTimeout)
}

/// Suspends the calling task until `fd` is writable. See `waitRead(_:timeout:onTimeout:)`.
@inlinable @discardableResult
public func waitWrite(_ fd: Int32, timeout: Duration? = nil, onTimeout: OnTimeout = .throwTimeoutError) async throws -> IOEvents {
    try await Hub.waitIO(fd, events: IOEvents.write.rawValue, timeout: timeout, onTimeout: onTimeout)
}

/// Suspends the calling task until `fd` is readable or writable, and returns
/// which. See `waitRead(_:timeout:onTimeout:)`.
@inlinable @discardableResult
public func waitReadWrite(_ fd: Int32, timeout: Duration? = nil, onTimeout: OnTimeout = .throwTimeoutError) async throws -> IOEvents {
    try await Hub.waitIO(fd, events: IOEvents([.read, .write]).rawValue, timeout: timeout, onTimeout: onTimeout)
}

/// `waitRead` on anything with a descriptor (a `Socket`, a `FileHandle`-like type).
@inlinable @discardableResult
public func waitRead(_ source: some FileDescriptorConvertible, timeout: Duration? = nil, onTimeout: OnTimeout = .throwTimeoutError) async throws -> IOEvents {
    try await waitRead(source.fileDescriptor, timeout: timeout, onTimeout: onTimeout)
}

/// `waitWrite` on anything with a descriptor.
@inlinable @discardableResult
public func waitWrite(_ source: some FileDescriptorConvertible, timeout: Duration? = nil, onTimeout: OnTimeout = .throwTimeoutError) async throws -> IOEvents {
    try await waitWrite(source.fileDescriptor, timeout: timeout, onTimeout: onTimeout)
}

/// `waitReadWrite` on anything with a descriptor.
@inlinable @discardableResult
public func waitReadWrite(_ source: some FileDescriptorConvertible, timeout: Duration? = nil, onTimeout: OnTimeout = .throwTimeoutError) async throws -> IOEvents {
    try await waitReadWrite(source.fileDescriptor, timeout: timeout, onTimeout: onTimeout)
}

/// `waitRead` on a watcher: the same as `wait(_:timeout:onTimeout:)`.
@inlinable @discardableResult
public func waitRead(_ watcher: IOWatcher, timeout: Duration? = nil, onTimeout: OnTimeout = .throwTimeoutError) async throws -> IOEvents {
    try await watcher.wait(timeout: timeout, onTimeout: onTimeout)
}

/// Suspends the calling task until `watcher` fires.
///
/// - Throws: `ConcurrentUseError` at once if another task is already waiting
///   on this watcher; the error given to `cancelWait`; otherwise as `waitRead`.
@inlinable @discardableResult
public func wait(_ watcher: IOWatcher, timeout: Duration? = nil, onTimeout: OnTimeout = .throwTimeoutError) async throws -> IOEvents {
    try await watcher.wait(timeout: timeout, onTimeout: onTimeout)
}

/// Wakes the task waiting on `watcher` with `error`; does nothing when no
/// task is waiting. The task wakes asynchronously, from the loop.
public func cancelWait(_ watcher: IOWatcher, error: any Error = SystemError.closedInAnotherTask) {
    watcher.cancelWait(error: error)
}

/// Carries a value the compiler cannot prove `Sendable` across to the hub thread.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// An io watcher bound to one hub: a descriptor and the events to wait for.
/// At most one task waits on it at a time (a socket has one for reading and
/// one for writing); another task may `cancelWait` it. Unlike the raw
/// descriptor calls, a watcher keeps its libev registration between waits,
/// so a wait costs no extra system call: close its descriptor only after its
/// last wait has ended (a `Socket` does this for you). Its state is touched
/// only on its hub's thread: calls from elsewhere hop there.
public final class IOWatcher: @unchecked Sendable {
    /// The descriptor watched.
    public let fileDescriptor: Int32
    /// The events waited for.
    public let events: IOEvents
    /// The hub whose loop watches the descriptor.
    public let hub: Hub
    /// The waiter of the task waiting now; hub thread only.
    @exclusivity(unchecked) private var active: WaiterRef?
    /// This watcher's own waiter, made on first wait; hub thread only.
    @exclusivity(unchecked) private var dedicated: UnsafeMutablePointer<Waiter>?

    /// Makes a watcher on `hub` (default: the current hub, else `Hub.default`).
    ///
    /// - Throws: `SystemError` (EBADF) for a negative descriptor;
    ///   `HubError.invalidArgument` for an empty event set or one with bits
    ///   other than `.read` and `.write`.
    public init(fileDescriptor: Int32, events: IOEvents, hub: Hub? = nil) throws {
        try Hub.checkDescriptorRange(fileDescriptor)
        guard !events.isEmpty else { throw HubError.invalidArgument("an io watcher needs .read, .write or both") }
        // libev aborts the process on any other bit when the watcher starts.
        guard events.isSubset(of: [.read, .write]) else {
            throw HubError.invalidArgument("an io watcher takes only .read and .write, got events 0x\(String(UInt32(bitPattern: events.rawValue), radix: 16))")
        }
        self.fileDescriptor = fileDescriptor
        self.events = events
        self.hub = hub ?? Hub.current ?? Hub.default
    }

    deinit {
        guard let dedicated else { return }
        let waiter = UncheckedSendable(dedicated)
        let hub = self.hub
        hub.execute { hub.waiters.releaseDedicated(waiter.value) }
    }

    /// Whether a task is waiting on this watcher now. Read it on the hub's
    /// thread; elsewhere it is only a hint.
    public var isWaiting: Bool { hub.isCurrent ? active != nil : false }

    /// See `wait(_:timeout:onTimeout:)`.
    @inlinable @discardableResult
    public func wait(timeout: Duration? = nil, onTimeout: OnTimeout = .throwTimeoutError) async throws -> IOEvents {
        // Inlined into the caller: a wait from a task on this hub costs one
        // executor check, after it resumes.
        guard hub.resumesHere else {
            let events = try await waitElsewhere(timeout: timeout, onTimeout: onTimeout)
            await Hub.settleOnGenericExecutor()
            return events
        }
        let (ref, ns) = try beginWait(timeout: timeout)
        let code = await Hub.suspend(ref, fd: Hub.armAsSet, events: 0, timeoutNanoseconds: ns)
        return try endWait(ref, code: code, onTimeout: onTimeout)
    }

    /// `wait` for a task that must hop to the hub first.
    @usableFromInline
    func waitElsewhere(timeout: Duration?, onTimeout: OnTimeout) async throws -> IOEvents {
        try await withTaskExecutorPreference(hub, isolation: nil) {
            try await self.wait(timeout: timeout, onTimeout: onTimeout)
        }
    }

    /// Checks a wait's arguments and marks this watcher's waiter as in use.
    /// Hub thread only.
    @usableFromInline
    func beginWait(timeout: Duration?) throws -> (WaiterRef, UInt64?) {
        guard active == nil else { throw ConcurrentUseError() }
        let ns = try nanoseconds(timeout)
        if hub.closing { throw HubError.shutDown(hub: hub.name) }
        let waiter: UnsafeMutablePointer<Waiter>
        if let dedicated {
            waiter = dedicated
        } else {
            waiter = hub.waiters.acquireDedicated(fd: fileDescriptor, events: events.rawValue)
            dedicated = waiter
        }
        hub.waiters.beginDedicated(waiter)
        let ref = WaiterRef(pointer: waiter, generation: waiter.pointee.generation)
        active = ref
        return (ref, ns)
    }

    /// Ends a use of this watcher's waiter and turns it into the result.
    /// Hub thread only.
    @usableFromInline
    func endWait(_ ref: WaiterRef, code: Int32, onTimeout: OnTimeout) throws -> IOEvents {
        active = nil
        let waiter = ref.pointer
        let scopeID = waiter.pointee.scopeID
        let error = waiter.pointee.error
        hub.waiters.endDedicated(waiter)
        return try hub.outcome(code, error: error, scopeID: scopeID, onTimeout: onTimeout)
    }

    /// See `cancelWait(_:error:)`.
    public func cancelWait(error: any Error = SystemError.closedInAnotherTask) {
        hub.execute { [self] in
            guard let active else { return }
            hub.handleFail(active, error: error)
        }
    }
}
