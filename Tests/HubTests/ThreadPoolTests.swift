import EvergreenHub
import EvergreenTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

struct WorkFailed: Error, Equatable {}

@Suite("The hub's thread pool", .timeLimit(.minutes(1)))
struct ThreadPoolTests {
    @Test func resultsComeBackOnTheHub() async throws {
        let (value, onHub, poolThreadWasNotHub) = try await testHub.run {
            let offHub = try await testHub.threadPool.run { Hub.current == nil }
            let value = try await testHub.threadPool.run { (1...100).reduce(0, +) }
            return (value, Hub.current === testHub, offHub)
        }
        #expect(value == 5050)
        #expect(onHub)
        #expect(poolThreadWasNotHub)
    }

    @Test func errorsThrownByTheWorkAreRethrown() async throws {
        await #expect(throws: WorkFailed()) {
            try await testHub.run { try await testHub.threadPool.run { throw WorkFailed() } }
        }
    }

    @Test func aCancelledTaskReturnsAtOnceWhileItsWorkRunsOn() async throws {
        let hub = Hub(name: "t-poolcancel", threadPoolSize: 2)
        defer { hub.shutdown() }
        let started = Event(), release = Event(), finished = Flag()
        let task = hub.spawn {
            try await hub.threadPool.run { () -> Int in
                started.fire()
                release.waitBlocking()
                finished.set()
                return 1
            }
        }
        await started.wait()
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        // The task came back while its work was still blocked.
        #expect(!finished.isSet)
        release.fire()
        // The pool is still usable and the abandoned result was dropped.
        let next = try await hub.run { try await hub.threadPool.run { 2 } }
        #expect(next == 2)
    }

    @Test func queuedWorkOfACancelledTaskNeverRuns() async throws {
        let pool = ThreadPool(threads: 1, name: "t-queued")
        defer { pool.shutdown() }
        let started = Event(), release = Event(), ranQueued = Flag()
        let blocker = testHub.spawn { try await pool.run { started.fire(); release.waitBlocking() } }
        await started.wait()
        let queued = testHub.spawn { try await pool.run { ranQueued.set() } }
        await eventually { pool.queuedCount == 1 }
        queued.cancel()
        await #expect(throws: CancellationError.self) { try await queued.value }
        release.fire()
        try await blocker.value
        try await testHub.run { try await pool.run { } }  // drains the queue
        #expect(!ranQueued.isSet)
    }

    @Test func thePoolNeverGrowsBeyondItsSize() async throws {
        let pool = ThreadPool(threads: 3, name: "t-size")
        defer { pool.shutdown() }
        try await testHub.run {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<50 { group.addTask { () async throws -> Void in try await pool.run { _ = usleep(100) } } }
                try await group.waitForAll()
            }
        }
        #expect(pool.threadCount <= 3)
    }

    @Test func aFullQueueIsAClearError() async throws {
        let pool = ThreadPool(threads: 1, queueLimit: 1, name: "t-full")
        defer { pool.shutdown() }
        let started = Event(), release = Event()
        let blocker = testHub.spawn { try await pool.run { started.fire(); release.waitBlocking() } }
        await started.wait()
        let queued = testHub.spawn { try await pool.run { } }
        await eventually { pool.queuedCount == 1 }
        let error = await #expect(throws: HubError.self) { try await testHub.run { try await pool.run { } } }
        #expect(error.map { "\($0)" }?.contains("full") == true)
        release.fire()
        try await blocker.value
        try await queued.value
    }

    @Test func shutdownFailsQueuedWorkAndJoinsThreads() async throws {
        let pool = ThreadPool(threads: 1, name: "t-shutdown")
        let started = Event(), release = Event()
        let blocker = testHub.spawn { try await pool.run { started.fire(); release.waitBlocking(); return 1 } }
        await started.wait()
        let queued = testHub.spawn { try await pool.run { 2 } }
        await eventually { pool.queuedCount == 1 }
        // Shut down from another thread while the blocker still runs.
        let done = Event()
        let thread = ThreadRunner { pool.shutdown(); done.fire() }
        await #expect(throws: HubError.self) { try await queued.value }
        release.fire()
        await done.wait()
        thread.join()
        #expect(try await blocker.value == 1)
        await #expect(throws: HubError.self) { try await testHub.run { try await pool.run { 3 } } }
    }
}

/// A plain thread for tests.
final class ThreadRunner: @unchecked Sendable {
    private var thread = pthread_t()
    private let body: @Sendable () -> Void

    init(_ body: @escaping @Sendable () -> Void) {
        self.body = body
        let me = Unmanaged.passRetained(self).toOpaque()
        pthread_create(&thread, nil, { arg in
            let runner = Unmanaged<ThreadRunner>.fromOpaque(arg!).takeRetainedValue()
            runner.body()
            return nil
        }, me)
    }

    func join() { pthread_join(thread, nil) }
}
