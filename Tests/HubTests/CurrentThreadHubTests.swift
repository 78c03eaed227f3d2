import EvergreenHub
import EvergreenTestSupport
import Testing
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `Hub.withCurrentThreadAsHub`: the calling thread runs the loop. The tests
/// are synchronous: the call blocks its thread until the hub stops.
@Suite("A hub on the calling thread", .timeLimit(.minutes(1)))
struct CurrentThreadHubTests {
    /// `pthread_self()` is safe to compare here: tests build unoptimised, so
    /// calls are not merged across an `await`; `Hub.current` backs it up.
    @Test func theBodyRunsOnTheCallingThreadAcrossEverySuspension() throws {
        let caller = UInt(pthread_self())
        let pipe = try TestPipe()
        defer { pipe.close() }
        let threads = try Hub.withCurrentThreadAsHub(name: "t-here") { hub -> [UInt] in
            var seen = [UInt(pthread_self())]
            try await hub.sleep(for: .milliseconds(1))
            #expect(Hub.current === hub)
            seen.append(UInt(pthread_self()))
            // A child task's write wakes this task's wait.
            async let written: Void = { pipe.put() }()
            _ = try await waitRead(pipe.readEnd)
            await written
            #expect(Hub.current === hub)
            seen.append(UInt(pthread_self()))
            seen.append(try await hub.threadPool.run { UInt(pthread_self()) })
            #expect(Hub.current === hub)
            seen.append(UInt(pthread_self()))
            return seen
        }
        #expect(threads[0] == caller && threads[1] == caller && threads[2] == caller && threads[4] == caller)
        #expect(threads[3] != caller, "the thread pool's work ran on the hub thread")
        #expect(Hub.current == nil)
    }

    @Test func theBodysErrorIsThrownAndTheHubIsShutDown() throws {
        let kept = Box<Hub>()
        #expect(throws: TimeoutError.self) {
            try Hub.withCurrentThreadAsHub(name: "t-throws") { hub in
                kept.set(hub)
                try await withTimeout(.milliseconds(1)) { try await hub.sleep(for: .seconds(60)) }
            }
        }
        #expect(kept.get()?.isShutDown == true)
        kept.get()?.shutdown()  // idempotent, no thread to join
    }

    @Test func tasksStillWaitingWhenTheBodyReturnsWakeWithShutDown() throws {
        let pipe = try TestPipe()
        defer { pipe.close() }
        let outcome = Event()
        let message = Box<String>()
        try Hub.withCurrentThreadAsHub(name: "t-leftover") { hub in
            hub.spawn {
                do {
                    _ = try await waitRead(pipe.readEnd)
                    message.set("woke with data")
                } catch {
                    message.set("\(error)")
                }
                outcome.fire()
            }
            try await waitUntilPending(1, hub: hub)
        }
        #expect(outcome.isFired)
        #expect(message.get() == "hub 't-leftover' is shut down")
    }

    @Test func aHubThreadCannotBecomeASecondHub() async throws {
        let error = try await testHub.run {
            #expect(throws: HubError.self) {
                try Hub.withCurrentThreadAsHub { _ in 1 }
            }
        }
        #expect(error.map { "\($0)" }?.contains("already runs hub '\(testHub.name)'") == true)
    }

    @Test func theCallingThreadCanRunAHubAgainAfterwards() throws {
        for round in 1...3 {
            let got = try Hub.withCurrentThreadAsHub(name: "t-again-\(round)") { hub in
                try await hub.sleep(for: .milliseconds(1))
                return round
            }
            #expect(got == round)
        }
    }
}

/// A value set in a hub's task and read once the hub stopped.
private final class Box<Value: Sendable>: Sendable {
    private let value = Mutex<Value?>(nil)
    func set(_ newValue: Value) { value.withLock { $0 = newValue } }
    func get() -> Value? { value.withLock { $0 } }
}
