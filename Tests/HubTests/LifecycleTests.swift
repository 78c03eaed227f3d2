import EvergreenHub
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("Hub shutdown and continuations", .timeLimit(.minutes(1)))
struct LifecycleTests {
    @Test func shutdownWakesPendingWaitsWithAClearErrorAndIsIdempotent() async throws {
        let hub = Hub(name: "t-shutdown")
        let pipe = try TestPipe()
        defer { pipe.close() }
        let reader = hub.spawn { try await waitRead(pipe.readEnd) }
        let sleeper = hub.spawn { try await hub.sleep(for: .seconds(3600)) }
        let pooled = hub.spawn { try await hub.threadPool.run { 1 } }
        try await waitUntilPending(2, hub: hub)
        _ = try? await pooled.value
        hub.shutdown()
        hub.shutdown()
        let error = await #expect(throws: HubError.self) { try await reader.value }
        #expect(error.map { "\($0)" } == "hub 't-shutdown' is shut down")
        await #expect(throws: HubError.self) { try await sleeper.value }
        #expect(hub.isShutDown)
        await #expect(throws: HubError.self) { try await hub.run { 1 } }
        await #expect(throws: HubError.self) { try await hub.spawn { 1 }.value }
    }

    @Test func shutdownHooksRunOnTheHubThread() async throws {
        let hub = Hub(name: "t-hooks")
        let ranOnHub = Flag()
        hub.onShutdown { if Hub.current === hub { ranOnHub.set() } }
        try await hub.run { }  // the hook is registered
        hub.shutdown()
        #expect(ranOnHub.isSet)
    }

    @Test func aHubContinuationResumedFromAnotherThreadWakesTheTask() async throws {
        let runner = RunnerBox()
        let value: Int = try await testHub.run {
            try await withHubContinuation { (c: HubContinuation<Int>) in
                runner.runner = ThreadRunner { c.resume(returning: 41) }
            } + 1
        }
        runner.runner?.join()
        #expect(value == 42)
    }

    @Test func aLateResumeAfterCancellationIsIgnored() async throws {
        let hub = Hub(name: "t-late")
        defer { hub.shutdown() }
        let box = ContinuationBox()
        let cancelledOnHub = Flag()
        let task = hub.spawn {
            try await withHubContinuation(onCancel: { if Hub.current === hub { cancelledOnHub.set() } }) { (c: HubContinuation<Int>) in
                box.set(c)
            }
        }
        try await waitUntilPending(1, hub: hub)
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        box.get()?.resume(returning: 5)  // ignored, no crash
        #expect(cancelledOnHub.isSet)
        let stats = try await hub.statistics()
        #expect(stats.pendingWaits == 0)
    }

    @Test func aHubContinuationHonoursItsTimeout() async throws {
        await #expect(throws: TimeoutError.self) {
            try await testHub.run {
                try await withHubContinuation(timeout: .milliseconds(10)) { (_: HubContinuation<Int>) in }
            }
        }
    }

    @Test func callbackWatchersFireOnTheHub() async throws {
        let pipe = try TestPipe()
        defer { pipe.close() }
        let fired: Bool = try await testHub.run {
            try await withHubContinuation { (c: HubContinuation<Bool>) in
                let io = IOCallbackWatcher(hub: testHub) { _ in }
                let holder = WatcherHolder()
                holder.io = IOCallbackWatcher(hub: testHub) { events in
                    holder.io?.stop()
                    holder.io = nil  // breaks holder -> watcher -> callback -> holder
                    c.resume(returning: events.contains(.read) && Hub.current === testHub)
                }
                holder.io?.start(fd: pipe.readEnd, events: .read)
                _ = io
                pipe.put()
            }
        }
        #expect(fired)
        let timerFired: Bool = try await testHub.run {
            try await withHubContinuation { (c: HubContinuation<Bool>) in
                let holder = WatcherHolder()
                holder.timer = TimerCallbackWatcher(hub: testHub) {
                    holder.timer = nil
                    c.resume(returning: Hub.current === testHub)
                }
                holder.timer?.start(after: 0.001)
            }
        }
        #expect(timerFired)
    }
}

final class ContinuationBox: @unchecked Sendable {
    private var continuation: HubContinuation<Int>?
    private let lock = NSLockLike()
    func set(_ c: HubContinuation<Int>) { lock.with { continuation = c } }
    func get() -> HubContinuation<Int>? { lock.with { continuation } }
}

/// Keeps callback watchers alive until their callbacks run.
final class WatcherHolder: @unchecked Sendable {
    var io: IOCallbackWatcher?
    var timer: TimerCallbackWatcher?
}

final class NSLockLike: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    init() { pthread_mutex_init(&mutex, nil) }
    func with<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return body()
    }
}

final class RunnerBox: @unchecked Sendable {
    var runner: ThreadRunner?
}

@Suite("Work given to a stopped hub", .timeLimit(.minutes(1)))
struct StoppedHubTests {
    @Test func aShutdownHookRegisteredAfterTheHubStoppedStillRuns() async throws {
        let hub = Hub(name: "t-late-hook")
        hub.shutdown()
        let ran = Flag()
        hub.onShutdown { ran.set() }
        #expect(ran.isSet)
    }

    @Test func aTaskPreferringAStoppedHubStillRunsToCompletion() async throws {
        let hub = Hub(name: "t-stopped")
        hub.shutdown()
        // Its jobs go to the global executor instead of hanging.
        let value = await withTaskExecutorPreference(hub) { () async -> Int in
            await Task.yield()
            return 3
        }
        #expect(value == 3)
    }
}
