import EvergreenHub
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A thread that runs the closures handed to it, in order: the other side of each race.
public final class RacerThread: @unchecked Sendable {
    // A pthread mutex, not `Mutex`: ThreadSanitizer does not see the
    // ordering of Synchronization's futex-based lock and reports a race.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var queue: [@Sendable () -> Void] = []
    private let ready = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
    private var thread = pthread_t()

    /// Starts the thread; `stop()` ends it.
    public init() {
        sem_init(ready, 0, 0)
        pthread_mutex_init(mutex, nil)
        let me = Unmanaged.passRetained(self).toOpaque()
        pthread_create(&thread, nil, { arg in
            Unmanaged<RacerThread>.fromOpaque(arg!).takeRetainedValue().loop()
            return nil
        }, me)
    }

    private func loop() {
        while true {
            while sem_wait(ready) != 0 {}
            pthread_mutex_lock(mutex)
            let body = queue.isEmpty ? nil : queue.removeFirst()
            pthread_mutex_unlock(mutex)
            guard let body else { return }
            body()
        }
    }

    /// Hands `body` to the thread and returns at once.
    public func fire(_ body: @escaping @Sendable () -> Void) {
        pthread_mutex_lock(mutex)
        queue.append(body)
        pthread_mutex_unlock(mutex)
        sem_post(ready)
    }

    /// Runs `body` on the thread and suspends on `hub` until it is done.
    /// Completions reach the hub in order, after anything `body` posted
    /// to it (a close, a readiness), so that has run by then.
    public func run(on hub: Hub, _ body: @escaping @Sendable () -> Void) async throws {
        try await withHubContinuation(hub: hub) { (done: HubContinuation<Void>) in
            fire { body(); done.resume(returning: ()) }
        }
    }

    /// Runs `body` on the thread; the caller suspends without blocking a thread.
    public func run(_ body: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            fire { body(); done.resume() }
        }
    }

    /// Ends the thread after the closures already handed over, and joins it.
    public func stop() {
        sem_post(ready)
        pthread_join(thread, nil)
        sem_destroy(ready)
        ready.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }
}

/// Busy-waits about `turns` loop turns: a few microseconds of skew between the racers.
public func raceSpin(_ turns: Int) {
    var sum = 0
    for turn in 0..<turns { sum &+= turn }
    raceSpinSink.store(sum, ordering: .relaxed)
}

// Keeps the optimiser from dropping the loop.
private let raceSpinSink = Atomic<Int>(0)
