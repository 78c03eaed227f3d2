import CLibev
#if canImport(Glibc)
import Glibc
#endif

/// What a wait does when its own timeout passes.
public enum OnTimeout: Sendable {
    /// Throw `TimeoutError` ("timed out"). The default.
    case throwTimeoutError
    /// Throw this error, as given.
    case throwError(any Error & Sendable)
    /// Return quietly: the wait returns an empty `IOEvents`.
    case returnEmpty
}

extension Hub {
    /// Whether code after a suspension resumes on this hub's thread: true
    /// for a task job running here (only tasks that prefer the hub are
    /// enqueued on it), false for an actor job (it resumes on its actor).
    @usableFromInline
    var resumesHere: Bool { isCurrent && !runningIsolatedJob }

    /// The current hub, if the caller runs on it and resumes there: then a
    /// wait needs no hop.
    @usableFromInline
    static var currentResumingHere: Hub? {
        guard let hub = Hub.current, hub.resumesHere else { return nil }
        return hub
    }

    /// Runs `operation` on `hub` (default: the current hub, else
    /// `Hub.default`) in a task that prefers it, hopping there and back if
    /// needed. Every hub wait goes through this, so it never blocks a thread
    /// and always resumes on the hub's thread.
    @inline(__always)
    static func onHub<T>(_ hub: Hub? = nil, _ operation: (Hub) async throws -> T) async throws -> T {
        let target = hub ?? Hub.current ?? Hub.default
        if target.resumesHere {
            return try await operation(target)
        }
        return try await withTaskExecutorPreference(target, isolation: nil) {
            try await operation(target)
        }
    }

    /// Ends on the generic executor in a way the optimiser can see: the
    /// hop after `withUnsafeContinuation(isolation: nil)`. An inlined wait
    /// calls this at the end of its hop-to-the-hub path, so that both of its
    /// paths end on a known executor and the caller needs no executor check
    /// of its own after the wait (one `swift_task_switch` per wait instead
    /// of two on the common path). Costs one check on the rare path.
    @inlinable @inline(__always)
    static func settleOnGenericExecutor() async {
        await withUnsafeContinuation(isolation: nil) { $0.resume() }
    }

    /// Hands out a waiter, failing if the hub is closing. Hub thread only.
    @inline(__always)
    func acquireWaiter() throws(HubError) -> WaiterRef {
        if closing { throw HubError.shutDown(hub: name) }
        let waiter = waiters.acquire()
        return WaiterRef(pointer: waiter, generation: waiter.pointee.generation)
    }

    /// Returns a waiter to the pool and gives back the error it was woken with.
    @inline(__always)
    func releaseWaiter(_ ref: WaiterRef) -> (any Error)? {
        let error = ref.pointer.pointee.error
        waiters.release(ref.pointer)
        return error
    }

    /// Arms the waiter (an io watcher when `fd >= 0`, a timer for the earlier
    /// of `timeoutNanoseconds` and the enclosing scope's deadline) and
    /// suspends until one fires, the task is cancelled, or something else
    /// finishes the waiter. Hub thread only; the task must prefer this hub.
    ///
    /// `fd < 0` arms no io watcher; `fd == Hub.armAsSet` starts the waiter's
    /// io watcher with the descriptor and events it already has.
    ///
    /// Inlinable, with the work in the synchronous calls around the one
    /// `await`: inlined into its caller, a wait costs one executor check
    /// (the caller's own, after it resumes) instead of one per async
    /// function on the way down and back.
    @inlinable @inline(__always)
    static func suspend(_ ref: WaiterRef, fd: Int32, events: Int32, timeoutNanoseconds: UInt64?) async -> Int32 {
        let cancellation = CancellationRecord(ref.cancellationHandler)
        let code = await withUnsafeContinuation(isolation: nil) { (continuation: UnsafeContinuation<Int32, Never>) in
            arm(ref, continuation, fd: fd, events: events, timeoutNanoseconds: timeoutNanoseconds)
        }
        cancellation.remove()
        return code
    }

    /// `suspend`'s synchronous part: stores the continuation and starts the
    /// watchers, or finishes at once if a cancellation came first.
    @usableFromInline
    static func arm(_ ref: WaiterRef, _ continuation: UnsafeContinuation<Int32, Never>, fd: Int32, events: Int32, timeoutNanoseconds: UInt64?) {
        ref.hub.arm(ref, continuation, fd: fd, events: events, timeoutNanoseconds: timeoutNanoseconds)
    }

    private func arm(_ ref: WaiterRef, _ continuation: UnsafeContinuation<Int32, Never>, fd: Int32, events: Int32, timeoutNanoseconds: UInt64?) {
        let waiter = ref.pointer
        waiter.pointee.continuation = continuation
        if waiter.pointee.cancelRequested {
            if closing { waiter.pointee.error = HubError.shutDown(hub: name) }
            finishWaiter(waiter, loop: loop, code: closing ? WaitCode.failed : WaitCode.cancelled)
            return
        }
        var timerAfter = timeoutNanoseconds
        if let scope = ScopeDeadline.active {
            let now = evg_monotonic_ns()
            let left = scope.deadline > now ? scope.deadline - now : 0
            if timerAfter == nil || left < timerAfter! {
                timerAfter = left
                waiter.pointee.timerIsScope = true
                waiter.pointee.scopeID = scope.id
            }
        }
        if fd >= 0 {
            evg_io_set(waiter.io, fd, events)
            ev_io_start(loop, waiter.io)
            descriptorChecks.append(ref)
        } else if fd == Hub.armAsSet {
            // Restarted in the iteration that stopped it, the watcher
            // makes libev issue no epoll_ctl; otherwise libev re-adds it.
            if waiter.pointee.stoppedInIteration != ev_iteration(loop) { descriptorChecks.append(ref) }
            ev_io_start(loop, waiter.io)
        }
        if let timerAfter {
            // libev times from its cached clock; refresh it so the
            // timer never fires early.
            ev_now_update(loop)
            evg_timer_set(waiter.timer, Double(timerAfter) / 1e9, 0)
            ev_timer_start(loop, waiter.timer)
        }
        waiter.pointee.phase = .waiting
    }

    /// Turns a wait's end into its result or error.
    @inline(__always)
    func outcome(_ code: Int32, error: (any Error)?, scopeID: UInt64, onTimeout: OnTimeout) throws -> IOEvents {
        // libev reports a descriptor epoll rejects (closed, never opened) as
        // EV_ERROR, the sign bit: far below our own small negative codes.
        if code < WaitCode.lowest {
            throw SystemError(code: EBADF)
        }
        if code > 0 {
            return IOEvents(rawValue: code & (IOEvents.read.rawValue | IOEvents.write.rawValue))
        }
        switch code {
        case WaitCode.timedOut:
            switch onTimeout {
            case .throwTimeoutError: throw TimeoutError()
            case .throwError(let error): throw error
            case .returnEmpty: return []
            }
        case WaitCode.scopeExpired: throw ScopeExpired(scopeID: scopeID)
        case WaitCode.cancelled: throw CancellationError()
        case WaitCode.failed: throw error ?? HubError.shutDown(hub: name)
        default: return []
        }
    }

    /// Fails every wait on a descriptor that was closed before libev could
    /// register it. libev (built with assertions, as Debian's is) aborts the
    /// process when epoll_ctl reports EBADF, and it calls epoll_ctl for the
    /// descriptors whose watchers changed right after the prepare watchers
    /// run, so this runs last in the prepare callback. One fcntl per wait
    /// armed since the last poll: the check a wait would otherwise make
    /// itself, moved to where it also catches a descriptor closed by another
    /// task after the wait began.
    func checkDescriptors() {
        guard !descriptorChecks.isEmpty else { return }
        var closed: Set<Int32> = []
        var checked: Int32 = -1
        for ref in descriptorChecks where ref.isCurrent && ref.pointer.pointee.phase == .waiting {
            let fd = ref.pointer.io.pointee.fd
            guard evg_is_active(ref.pointer.io) != 0, fd != checked else { continue }
            checked = fd
            if evg_fd_is_open(fd) == 0 { closed.insert(fd) }
        }
        descriptorChecks.removeAll(keepingCapacity: true)
        guard !closed.isEmpty else { return }
        // Every watcher on such a descriptor must stop, or libev re-adds it.
        for waiter in waiters.all where waiter.pointee.phase == .waiting && evg_is_active(waiter.io) != 0 {
            let fd = waiter.io.pointee.fd
            guard closed.contains(fd) else { continue }
            waiter.pointee.error = SystemError(code: EBADF, message: "Bad file descriptor: \(fd) (closed while waiting)")
            finishWaiter(waiter, loop: loop, code: WaitCode.failed)
        }
        // The woken tasks are queued now: the coming poll must not block.
        finishPass()
    }

    /// Refuses a negative descriptor, and one so large that libev would size
    /// its per-descriptor table to it (megabytes) unless it really is open.
    /// Ordinary descriptors are checked in `checkDescriptors`, at no extra cost.
    @inline(__always)
    static func checkDescriptorRange(_ fd: Int32) throws(SystemError) {
        if fd < 0 || (fd > 65_535 && evg_fd_is_open(fd) == 0) {
            throw SystemError(code: EBADF, message: "Bad file descriptor: \(fd)")
        }
    }

    /// `suspend`'s marker for "start the io watcher as it is set".
    @inlinable
    static var armAsSet: Int32 { -2 }

    /// One wait on `fd` with a fresh watcher, from wherever the caller runs:
    /// directly when it runs on a hub and resumes there, else on the current
    /// hub or `Hub.default` by a hop there and back. The inlined code holds
    /// no reference to the hub (a release there would cost the caller an
    /// executor check); the waiter knows its hub.
    @inlinable @inline(__always)
    static func waitIO(_ fd: Int32, events: Int32, timeout: Duration?, onTimeout: OnTimeout) async throws -> IOEvents {
        guard let (ref, ns) = try beginWaitIOHere(fd, timeout: timeout) else {
            let fired = try await waitIOElsewhere(fd, events: events, timeout: timeout, onTimeout: onTimeout)
            await settleOnGenericExecutor()
            return fired
        }
        let code = await suspend(ref, fd: fd, events: events, timeoutNanoseconds: ns)
        return try endPooledWait(ref, code: code, onTimeout: onTimeout)
    }

    /// `waitIO` for a caller that must hop to the hub first: on the hub,
    /// `waitIO` takes its direct path.
    @usableFromInline
    static func waitIOElsewhere(_ fd: Int32, events: Int32, timeout: Duration?, onTimeout: OnTimeout) async throws -> IOEvents {
        try await onHub { _ in
            try await waitIO(fd, events: events, timeout: timeout, onTimeout: onTimeout)
        }
    }

    /// Checks a raw wait's arguments and hands out a waiter of the current
    /// hub; nil when the caller is not on a hub it resumes on.
    @usableFromInline
    static func beginWaitIOHere(_ fd: Int32, timeout: Duration?) throws -> (WaiterRef, UInt64?)? {
        guard let hub = Hub.currentResumingHere else { return nil }
        try checkDescriptorRange(fd)
        let ns = try nanoseconds(timeout)
        return (try hub.acquireWaiter(), ns)
    }

    /// Returns a pool waiter (a raw wait's, a sleep's) and turns the wait's
    /// end into its result.
    @usableFromInline
    static func endPooledWait(_ ref: WaiterRef, code: Int32, onTimeout: OnTimeout) throws -> IOEvents {
        let hub = ref.hub
        let scopeID = ref.pointer.pointee.scopeID
        let error = hub.releaseWaiter(ref)
        return try hub.outcome(code, error: error, scopeID: scopeID, onTimeout: onTimeout)
    }

    /// Suspends the calling task for `duration` on the hub's timer.
    ///
    /// - Throws: `CancellationError` if the task is cancelled meanwhile;
    ///   `HubError.shutDown` if the hub shuts down.
    public func sleep(for duration: Duration) async throws {
        try await Hub.onHub(self) { hub in
            let ns = try nanoseconds(duration)
            let ref = try hub.acquireWaiter()
            let code = await Hub.suspend(ref, fd: -1, events: 0, timeoutNanoseconds: ns)
            _ = try Hub.endPooledWait(ref, code: code, onTimeout: .returnEmpty)
        }
    }
}
