import Synchronization

/// A one-shot event tasks can await, fired from any thread (a gate the
/// waiting tasks pass once it has fired).
public final class Event: Sendable {
    private let state = Mutex<(fired: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    /// Makes an event that has not fired.
    public init() {}

    /// Fires the event: every waiting task resumes, later waits return at once.
    public func fire() {
        let waiters = state.withLock { state in
            state.fired = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Whether `fire()` has been called.
    public var isFired: Bool { state.withLock { $0.fired } }

    /// Suspends until the event has fired.
    public func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                if state.fired { return true }
                state.waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }
}
