#if canImport(Glibc)
import Glibc
#endif

/// A one-shot event, fired from any thread: tasks await it, and thread-pool
/// work can block on it, instead of sleeping. Once fired, waits return at once.
public final class Event: @unchecked Sendable {
    // A pthread mutex, not `Mutex`: ThreadSanitizer does not see the
    // ordering of Synchronization's futex-based lock and reports a race.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var fired = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    /// Makes an event that has not fired.
    public init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        pthread_cond_destroy(cond)
        mutex.deallocate()
        cond.deallocate()
    }

    /// Fires the event: every waiting task and thread resumes.
    public func fire() {
        pthread_mutex_lock(mutex)
        fired = true
        let toResume = waiters
        waiters = []
        pthread_cond_broadcast(cond)
        pthread_mutex_unlock(mutex)
        for waiter in toResume { waiter.resume() }
    }

    /// Whether `fire()` has been called.
    public var isFired: Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return fired
    }

    /// Suspends until the event has fired.
    public func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            pthread_mutex_lock(mutex)
            if fired {
                pthread_mutex_unlock(mutex)
                continuation.resume()
            } else {
                waiters.append(continuation)
                pthread_mutex_unlock(mutex)
            }
        }
    }

    /// Blocks the calling thread until the event has fired (for thread-pool work only).
    public func waitBlocking() {
        pthread_mutex_lock(mutex)
        while !fired { pthread_cond_wait(cond, mutex) }
        pthread_mutex_unlock(mutex)
    }
}
