import EvergreenHub
import Testing
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A non-blocking pipe closed by `close()`.
struct TestPipe: Sendable {
    let readEnd: Int32
    let writeEnd: Int32

    init() throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw SystemError.lastError() }
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        readEnd = fds[0]
        writeEnd = fds[1]
    }

    func put(_ byte: UInt8 = 7) {
        var byte = byte
        _ = write(writeEnd, &byte, 1)
    }

    func take() -> UInt8? {
        var byte: UInt8 = 0
        return read(readEnd, &byte, 1) == 1 ? byte : nil
    }

    func close() {
        _ = Glibc.close(readEnd)
        _ = Glibc.close(writeEnd)
    }
}

/// A one-shot signal between tasks and threads, for synchronising on events
/// instead of sleeping.
final class Signal: @unchecked Sendable {
    private var fired = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        pthread_cond_destroy(cond)
        mutex.deallocate()
        cond.deallocate()
    }

    func fire() {
        pthread_mutex_lock(mutex)
        fired = true
        let toResume = waiters
        waiters = []
        pthread_cond_broadcast(cond)
        pthread_mutex_unlock(mutex)
        for waiter in toResume { waiter.resume() }
    }

    var isFired: Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return fired
    }

    func wait() async {
        await withCheckedContinuation { continuation in
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

    /// Blocks the calling thread (for thread-pool work only).
    func waitBlocking() {
        pthread_mutex_lock(mutex)
        while !fired { pthread_cond_wait(cond, mutex) }
        pthread_mutex_unlock(mutex)
    }
}

/// Waits until `condition` holds, yielding to the hub in between; fails
/// the test after `limit` tries instead of hanging.
func eventually(_ limit: Int = 1_000_000, _ condition: () async throws -> Bool, sourceLocation: SourceLocation = #_sourceLocation) async rethrows {
    for _ in 0..<limit {
        if try await condition() { return }
        await Task.yield()
    }
    Issue.record("condition never held", sourceLocation: sourceLocation)
}

let testHub = Hub(name: "tests")

/// A boolean set once, readable from any thread.
final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}
