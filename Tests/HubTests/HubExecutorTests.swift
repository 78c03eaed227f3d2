import EvergreenHub
import Testing
import Foundation

@Suite("Hub as a task executor", .timeLimit(.minutes(1)))
struct HubExecutorTests {
    @Test func currentIsNilOffHubAndTheHubOnIt() async throws {
        #expect(Hub.current == nil)
        let onHub = try await testHub.run { Hub.current === testHub }
        #expect(onHub)
    }

    @Test func runReturnsTheClosureResultAndRethrows() async throws {
        let value = try await testHub.run { 6 * 7 }
        #expect(value == 42)
        await #expect(throws: TimeoutError.self) {
            try await testHub.run { throw TimeoutError() }
        }
    }

    @Test func spawnRunsOnTheHub() async throws {
        let task = testHub.spawn { Hub.current === testHub }
        #expect(try await task.value)
    }

    @Test func tasksStayOnTheHubAcrossEveryKindOfSuspension() async throws {
        let ok = try await testHub.run { () async throws -> Bool in
            var results: [Bool] = []
            // A continuation resumed from another thread.
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                Thread.detachNewThread { c.resume() }
            }
            results.append(Hub.current === testHub)
            // Task.sleep runs its timer elsewhere.
            try await Task.sleep(for: .milliseconds(1))
            results.append(Hub.current === testHub)
            // The hub's own timer.
            try await testHub.sleep(for: .milliseconds(1))
            results.append(Hub.current === testHub)
            // Task-group children, and the parent after awaiting them.
            let children = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<8 { group.addTask { await Task.yield(); return Hub.current === testHub } }
                return await group.reduce(true) { $0 && $1 }
            }
            results.append(children)
            results.append(Hub.current === testHub)
            // async let children.
            async let child = { Hub.current === testHub }()
            results.append(await child)
            return results.allSatisfy { $0 }
        }
        #expect(ok)
    }

    @Test func withTaskExecutorPreferenceRunsOnTheHub() async throws {
        let onHub = await withTaskExecutorPreference(testHub) { () async -> Bool in
            await Task.yield()
            return Hub.current === testHub
        }
        #expect(onHub)
    }

    @Test func anActorCanBePinnedToTheHub() async throws {
        let counter = PinnedCounter(hub: testHub)
        let (count, onHub) = try await counter.incrementAfterWaiting()
        #expect(count == 1)
        #expect(onHub)
    }

    @Test func jobsEnqueuedOnTheHubThreadDoNotWakeTheLoop() async throws {
        let hub = Hub(name: "t-wakeups")
        defer { hub.shutdown() }
        let before = try await hub.statistics().loopWakeups
        try await hub.run {
            for _ in 0..<2_000 { await Task.yield() }
        }
        let after = try await hub.statistics().loopWakeups
        // The two `run` hops may wake the loop; 2,000 yields on the hub must not.
        #expect(after - before < 20)
    }

    @Test func aLongRunQueueDoesNotStarveIO() async throws {
        let pipe = try TestPipe()
        defer { pipe.close() }
        let limit = 50_000_000
        let done = Flag()
        let spins = try await testHub.run { () async throws -> Int in
            let reader = testHub.spawn {
                try await waitRead(pipe.readEnd)
                done.set()
            }
            pipe.put()
            // Keep the run queue non-empty: without a budget the reader
            // would never get its I/O callback until this loop ends.
            var spins = 0
            while spins < limit && !done.isSet {
                spins += 1
                await Task.yield()
            }
            try await reader.value
            return spins
        }
        #expect(spins < limit)
    }
}

actor PinnedCounter {
    let hub: Hub
    var count = 0
    init(hub: Hub) { self.hub = hub }
    nonisolated var unownedExecutor: UnownedSerialExecutor { hub.serialExecutor.asUnownedSerialExecutor() }

    func incrementAfterWaiting() async throws -> (Int, Bool) {
        let pipe = try TestPipe()
        defer { pipe.close() }
        pipe.put()
        try await waitRead(pipe.readEnd)
        count += 1
        return (count, Hub.current === hub)
    }
}
