import EvergreenHub
import Testing
#if canImport(Glibc)
import Glibc
#endif

struct CustomTimeout: Error, Equatable {}

@Suite("The wait API", .timeLimit(.minutes(1)))
struct WaitTests {
    @Test func waitReadReturnsWhenReadable() async throws {
        let pipe = try TestPipe()
        defer { pipe.close() }
        let events = try await testHub.run {
            let reader = testHub.spawn { try await waitRead(pipe.readEnd) }
            pipe.put()
            return try await reader.value
        }
        #expect(events == .read)
    }

    @Test func waitWriteAndReadWriteReportWhichFired() async throws {
        let pipe = try TestPipe()
        defer { pipe.close() }
        let (write, readWrite) = try await testHub.run {
            (try await waitWrite(pipe.writeEnd), try await waitReadWrite(pipe.writeEnd))
        }
        #expect(write == .write)
        #expect(readWrite == .write)
    }

    @Test func theDefaultTimeoutErrorReadsTimedOut() async throws {
        let pipe = try TestPipe()
        defer { pipe.close() }
        let error = await #expect(throws: TimeoutError.self) {
            try await testHub.run { try await waitRead(pipe.readEnd, timeout: .milliseconds(20)) }
        }
        #expect(error.map { "\($0)" } == "timed out")
    }

    @Test func aTimeoutTakesAtLeastItsDuration() async throws {
        let pipe = try TestPipe()
        defer { pipe.close() }
        let clock = ContinuousClock()
        let start = clock.now
        _ = try await testHub.run { try await waitRead(pipe.readEnd, timeout: .milliseconds(30), onTimeout: .returnEmpty) }
        #expect(start.duration(to: clock.now) >= .milliseconds(30))
    }

    @Test func aGivenTimeoutErrorIsThrownAsGiven() async throws {
        let pipe = try TestPipe()
        defer { pipe.close() }
        await #expect(throws: CustomTimeout()) {
            try await testHub.run {
                try await waitRead(pipe.readEnd, timeout: .milliseconds(5), onTimeout: .throwError(CustomTimeout()))
            }
        }
    }

    @Test func aQuietTimeoutReturnsNoEvents() async throws {
        let pipe = try TestPipe()
        defer { pipe.close() }
        let events = try await testHub.run { try await waitRead(pipe.readEnd, timeout: .zero, onTimeout: .returnEmpty) }
        #expect(events.isEmpty)
    }

    @Test func readinessWinsOverATimeoutExpiringInTheSameIteration() async throws {
        let pipe = try TestPipe()
        defer { pipe.close() }
        pipe.put()
        for _ in 0..<100 {
            let events = try await testHub.run { try await waitRead(pipe.readEnd, timeout: .zero) }
            #expect(events == .read)
        }
    }

    @Test func severalTasksWaitingOnOneDescriptorAllWake() async throws {
        let hub = Hub(name: "t-severalT")
        defer { hub.shutdown() }
        let pipe = try TestPipe()
        defer { pipe.close() }
        let woken = try await hub.run {
            try await withThrowingTaskGroup(of: IOEvents.self) { group in
                for _ in 0..<10 { group.addTask { try await waitRead(pipe.readEnd) } }
                // Every child is suspended in its wait once the counts say so.
                try await waitUntilPending(10, hub: hub)
                pipe.put()
                return try await group.reduce(0) { count, events in count + (events == .read ? 1 : 0) }
            }
        }
        #expect(woken == 10)
    }

    @Test func aWatcherAlreadyWaitedOnThrowsConcurrentUseAtOnce() async throws {
        let hub = Hub(name: "t-aWatcher")
        defer { hub.shutdown() }
        let pipe = try TestPipe()
        defer { pipe.close() }
        try await hub.run {
            let watcher = try IOWatcher(fileDescriptor: pipe.readEnd, events: .read)
            let first = Task(executorPreference: hub) { try await wait(watcher) }
            try await waitUntilPending(1, hub: hub)
            await #expect(throws: ConcurrentUseError.self) { try await wait(watcher, timeout: .seconds(5)) }
            pipe.put()
            #expect(try await first.value == .read)
            #expect(!watcher.isWaiting)
        }
    }

    @Test func cancelWaitWakesTheWaiterWithEBADF() async throws {
        let hub = Hub(name: "t-cancelWa")
        defer { hub.shutdown() }
        let pipe = try TestPipe()
        defer { pipe.close() }
        try await hub.run {
            let watcher = try IOWatcher(fileDescriptor: pipe.readEnd, events: .read)
            let waiter = Task(executorPreference: hub) { try await wait(watcher) }
            try await waitUntilPending(1, hub: hub)
            cancelWait(watcher)
            let error = await #expect(throws: SystemError.self) { try await waiter.value }
            #expect(error?.code == EBADF)
            #expect(error?.message == "File descriptor was closed in another task")
        }
    }

    @Test func cancelWaitDeliversAGivenErrorAndIsANoOpWhenNobodyWaits() async throws {
        let hub = Hub(name: "t-cancelWa")
        defer { hub.shutdown() }
        let pipe = try TestPipe()
        defer { pipe.close() }
        try await hub.run {
            let watcher = try IOWatcher(fileDescriptor: pipe.readEnd, events: .read)
            cancelWait(watcher, error: CustomTimeout())  // nobody waits: nothing happens
            let waiter = Task(executorPreference: hub) { try await wait(watcher) }
            try await waitUntilPending(1, hub: hub)
            cancelWait(watcher, error: CustomTimeout())
            await #expect(throws: CustomTimeout()) { try await waiter.value }
            // The watcher is reusable afterwards.
            pipe.put()
            #expect(try await wait(watcher, timeout: .seconds(5)) == .read)
        }
    }

    @Test func cancellingATaskWakesItsWaitAndLeaksNothing() async throws {
        let hub = Hub(name: "t-cancelli")
        defer { hub.shutdown() }
        let pipe = try TestPipe()
        defer { pipe.close() }
        let before = try await hub.statistics()
        try await hub.run {
            let waiter = hub.spawn { try await waitRead(pipe.readEnd) }
            let sleeper = hub.spawn { try await hub.sleep(for: .seconds(3600)) }
            try await waitUntilPending(2, hub: hub)
            waiter.cancel()
            sleeper.cancel()
            await #expect(throws: CancellationError.self) { try await waiter.value }
            await #expect(throws: CancellationError.self) { try await sleeper.value }
        }
        let after = try await hub.statistics()
        #expect(after.pendingWaits == before.pendingWaits)
        #expect(after.activeWatchers == before.activeWatchers)
    }

    @Test func aTaskCancelledBeforeItWaitsThrowsAtOnce() async throws {
        let pipe = try TestPipe()
        defer { pipe.close() }
        let task = testHub.spawn {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await waitRead(pipe.readEnd)
        }
        await #expect(throws: CancellationError.self) { try await task.value }
    }

    @Test func cancellingFromAnotherThreadWakesTheWait() async throws {
        let hub = Hub(name: "t-cancelli")
        defer { hub.shutdown() }
        let pipe = try TestPipe()
        defer { pipe.close() }
        let waiter = hub.spawn { try await waitRead(pipe.readEnd) }
        try await hub.run { try await waitUntilPending(1, hub: hub) }
        waiter.cancel()  // from the test's own (non-hub) thread
        await #expect(throws: CancellationError.self) { try await waiter.value }
    }

    @Test func badDescriptorsAreThrownErrorsNotAborts() async throws {
        let negative = await #expect(throws: SystemError.self) { try await waitRead(-1, timeout: .seconds(5)) }
        #expect(negative?.code == EBADF)
        // A closed descriptor: parked high, where the kernel (which hands out
        // the lowest free number) will not give it to a concurrent test.
        let pipe = try TestPipe()
        let parked = dup2(pipe.readEnd, 1_000 + pipe.readEnd)
        pipe.close()
        _ = Glibc.close(parked)
        let closed = await #expect(throws: SystemError.self) { try await waitRead(parked, timeout: .seconds(5)) }
        #expect(closed?.code == EBADF)
        #expect(throws: SystemError.self) { try IOWatcher(fileDescriptor: -5, events: .read) }
        await #expect(throws: HubError.self) { try await waitRead(0, timeout: .seconds(-1)) }
    }

    @Test func aDescriptorClosedByAnotherTaskBeforeThePollFailsItsWaitsInsteadOfAborting() async throws {
        let hub = Hub(name: "t-closerace")
        defer { hub.shutdown() }
        let pipe = try TestPipe()
        defer { _ = Glibc.close(pipe.writeEnd) }
        // High numbers, so that no concurrent test is handed them after close.
        let raw = dup2(pipe.readEnd, 1_100 + pipe.readEnd)
        let watched = dup2(pipe.readEnd, 1_200 + pipe.readEnd)
        _ = Glibc.close(pipe.readEnd)
        let results = try await hub.run { () async throws -> [String] in
            let watcher = try IOWatcher(fileDescriptor: watched, events: .read)
            let a = hub.spawn { try await waitRead(raw) }
            let b = hub.spawn { try await wait(watcher) }
            // Both waits begin in this loop iteration; then the descriptors
            // close before libev registers them with epoll.
            await Task.yield()
            await Task.yield()
            _ = Glibc.close(raw)
            _ = Glibc.close(watched)
            var out: [String] = []
            for task in [a, b] {
                do { _ = try await task.value; out.append("returned") } catch let error as SystemError { out.append("errno \(error.code)") }
            }
            return out
        }
        #expect(results == ["errno \(EBADF)", "errno \(EBADF)"])
    }

    @Test func waitsCalledOffTheHubHopOntoItAndBack() async throws {
        let pipe = try TestPipe()
        defer { pipe.close() }
        pipe.put()
        #expect(Hub.current == nil)
        let events = try await waitRead(pipe.readEnd, timeout: .seconds(5))
        #expect(events == .read)
        #expect(Hub.current == nil)
    }
}

/// Waits until `count` more tasks than usual are suspended in hub waits:
/// the test then knows they are really waiting.
func waitUntilPending(_ count: Int, hub: Hub) async throws {
    try await eventually { try await hub.statistics().pendingWaits >= count }
}
