import EvergreenHub
import EvergreenTestSupport
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

// The ways a wait can end, raced against each other thousands of times:
// cancelWait, task cancellation, readiness, timeouts and hub shutdown, with
// the racing side on another thread. Each iteration must end in exactly one
// of the documented outcomes (never a hang or a crash), and each batch must
// leave the hub's counts, the process's descriptors and its threads as they
// were. The outcome tallies are printed, not asserted: which side wins is
// timing, and timing is never asserted.

@Suite("Races: cancelWait, cancellation, timeouts and shutdown", .timeLimit(.minutes(3)))
struct RaceTests {
    @Test func cancelWaitAgainstReadiness() async throws {
        let hub = Hub(name: "race-cancelwait")
        defer { hub.shutdown() }
        let racer = RacerThread()
        defer { racer.stop() }
        let pipe = try TestPipe()
        defer { pipe.close() }
        let iterations = raceIterations(16000)
        let tally = try await hub.run {
            let watcher = try IOWatcher(fileDescriptor: pipe.readEnd, events: .read, hub: hub)
            var tally = Tally()
            for i in 0..<iterations {
                let waiter = Task(executorPreference: hub) { try await watcher.wait().rawValue }
                // The hub runs jobs in order: after one yield the waiter is suspended.
                await Task.yield()
                #expect(watcher.isWaiting)
                let pause = Int.random(in: 0..<400)
                switch i % 4 {
                case 0:  // another thread: readiness, then cancelWait
                    try await racer.run(on: hub) { pipe.put(); raceSpin(pause); cancelWait(watcher) }
                case 1:  // another thread: cancelWait, then readiness
                    try await racer.run(on: hub) { cancelWait(watcher); raceSpin(pause); pipe.put() }
                case 2:  // another thread makes it ready while the hub cancels
                    racer.fire { raceSpin(pause); pipe.put() }
                    for _ in 0..<(pause % 4) { await Task.yield() }
                    cancelWait(watcher)
                    try await racer.run(on: hub) {}
                default:  // the hub makes it ready, then cancels after some loop turns
                    pipe.put()
                    for _ in 0..<(pause % 3) { try await hub.sleep(for: .zero) }
                    cancelWait(watcher)
                }
                let outcome = await RaceOutcome(of: waiter)
                tally.add(outcome)
                #expect(outcome == .events(IOEvents.read.rawValue) || outcome == .closedInAnotherTask, "iteration \(i): \(outcome)")
                _ = pipe.take()
            }
            return tally
        }
        print("cancelWait vs readiness, \(iterations) iterations: \(tally)")
        #expect(tally.total == iterations)
        try await expectQuiet(hub)
    }

    /// A wait with a timeout of a few microseconds, made ready and its task
    /// cancelled from another thread at about the moment the timeout passes.
    @Test(arguments: TimedWait.allCases)
    func cancellationAgainstReadinessAndTimeout(_ kind: TimedWait) async throws {
        let hub = Hub(name: "race-\(kind)")
        defer { hub.shutdown() }
        let racer = RacerThread()
        defer { racer.stop() }
        let pipe = try TestPipe()
        defer { pipe.close() }
        let iterations = raceIterations(8000)
        let onCancelCalls = Counter()
        let tally = try await hub.run {
            let watcher = try IOWatcher(fileDescriptor: pipe.readEnd, events: .read, hub: hub)
            var tally = Tally()
            for i in 0..<iterations {
                let timeout = Duration.microseconds(Int.random(in: 0...300))
                let slot = ContinuationSlot()
                let waiter = Task(executorPreference: hub) { () async throws -> Int in
                    switch kind {
                    case .waitReadTimeout:
                        return Int(try await waitRead(pipe.readEnd, timeout: timeout).rawValue)
                    case .watcherTimeout:
                        return Int(try await watcher.wait(timeout: timeout).rawValue)
                    case .timeoutScope:
                        return try await withTimeout(timeout) { Int(try await waitRead(pipe.readEnd).rawValue) }
                    case .sleepInScope:
                        let finished: Int? = try await withTimeoutOrNil(timeout) {
                            try await hub.sleep(for: .microseconds(Int.random(in: 0...300)))
                            return 1
                        }
                        return finished ?? 0
                    case .hubContinuation:
                        return try await withHubContinuation(timeout: timeout, onCancel: { onCancelCalls.add() }) {
                            (continuation: HubContinuation<Int>) in slot.set(continuation)
                        }
                    }
                }
                if i % 3 != 0 { await Task.yield() }  // mostly suspended first; sometimes not yet
                let pause = Int.random(in: 0..<600)
                let cancelFirst = Bool.random()
                try await racer.run(on: hub) {
                    if cancelFirst { waiter.cancel() }
                    raceSpin(pause)
                    pipe.put()
                    slot.resume(returning: i + 1)
                    if !cancelFirst { waiter.cancel() }
                }
                let outcome = await RaceOutcome(of: waiter)
                tally.add(outcome)
                #expect(kind.allows(outcome, value: i + 1), "iteration \(i), \(kind): \(outcome)")
                _ = pipe.take()
            }
            return tally
        }
        print("cancellation vs readiness vs timeout, \(kind), \(iterations) iterations: \(tally)")
        #expect(tally.total == iterations)
        if kind == .hubContinuation {
            // onCancel runs exactly once for every wait that ended without the value.
            #expect(onCancelCalls.value == tally.count(.cancelled) + tally.count(.timedOut))
        }
        try await expectQuiet(hub)
    }

    /// `hub.shutdown()` from other threads (twice at once, sometimes) while
    /// tasks wait on descriptors, watchers, timers, scopes, continuations and
    /// the thread pool, one keeps making ready waits, one hops onto the hub
    /// from outside, and another thread keeps handing the hub closures.
    @Test func shutdownFromOtherThreadsAgainstEveryKindOfWait() async throws {
        let iterations = raceIterations(3000)
        let pipe = try TestPipe()  // never written: its read end never becomes ready
        defer { pipe.close() }
        let before = DescriptorCensus.take()
        var tally = Tally()
        var names: [String] = []
        var hubs: [WeakHub] = []
        let racers = (RacerThread(), RacerThread())
        defer { racers.0.stop(); racers.1.stop() }
        for i in 0..<iterations {
            let name = "race\(i)"
            names.append(name)
            let hub = Hub(name: name, threadPoolSize: 2)
            hubs.append(WeakHub(hub))
            var tasks: [Task<Int, any Error>] = [
                hub.spawn { Int(try await waitRead(pipe.readEnd).rawValue) },
                hub.spawn { try await hub.sleep(for: .seconds(3600)); return 0 },
                hub.spawn { try await hub.threadPool.run { usleep(UInt32.random(in: 0...300)); return 1 } },
                hub.spawn { try await hub.threadPool.run { 2 } },
                hub.spawn { try await withHubContinuation { (_: HubContinuation<Int>) in } },
                hub.spawn { Int(try await IOWatcher(fileDescriptor: pipe.readEnd, events: .read).wait().rawValue) },
                hub.spawn { try await withTimeout(.seconds(3600)) { Int(try await waitRead(pipe.readEnd).rawValue) } },
                hub.spawn { while true { try await waitWrite(pipe.writeEnd) } },
                Task { try await hub.run { try await hub.sleep(for: .seconds(3600)); return 0 } },
            ]
            // hub.execute never drops a closure: it runs on the hub, or on
            // the caller once the hub has stopped.
            let executed = Counter()
            let handedOver = 200
            racers.1.fire {
                for _ in 0..<handedOver { hub.execute { executed.add() } }
            }
            // Shut down before the tasks start, while they start, or once they all wait.
            switch i % 3 {
            case 0: break
            case 1: for _ in 0..<Int.random(in: 0..<20) { await Task.yield() }
            default: try await hub.run { try await waitUntilPending(6, hub: hub) }
            }
            if i % 4 == 0 { racers.1.fire { hub.shutdown() } }  // a second shutdown at once
            await racers.0.run { hub.shutdown() }
            await racers.1.run {}  // after its closures and its shutdown
            #expect(hub.isShutDown)
            #expect(executed.value == handedOver, "iteration \(i): \(handedOver - executed.value) closures dropped")
            tasks.append(hub.spawn { 3 })  // after shutdown: refused
            for (index, task) in tasks.enumerated() {
                let outcome = await RaceOutcome(of: task)
                tally.add(outcome)
                let allowed: Bool = switch outcome {
                case .shutDown(let hubName): hubName == name || hubName == "\(name)-pool"
                case .value(let value): (index == 2 && value == 1) || (index == 3 && value == 2)
                default: false
                }
                #expect(allowed, "iteration \(i), task \(index): \(outcome)")
            }
        }
        print("shutdown vs waits, \(iterations) hubs: \(tally)")
        // Every hub thread and pool thread was joined...
        let left = await threadsStillRunning(ofHubs: names)
        #expect(left.isEmpty, "threads still running: \(left.prefix(10))")
        // ...every hub was freed (its loop, waiters and descriptors with it)...
        try await expectEventually("every hub freed") { hubs.allSatisfy { $0.hub == nil } }
        // ...and the process has no more descriptors than before, give or
        // take what the tests running in parallel hold (each hub leaking
        // even one descriptor would be hundreds).
        try await expectDescriptorsBack(to: before)
    }
}

/// The waits `cancellationAgainstReadinessAndTimeout` races.
enum TimedWait: String, CaseIterable, Sendable, CustomStringConvertible {
    case waitReadTimeout, watcherTimeout, timeoutScope, sleepInScope, hubContinuation

    var description: String { rawValue }

    /// Exactly one of: ready (or the value), timed out, cancelled.
    func allows(_ outcome: RaceOutcome, value: Int) -> Bool {
        switch (self, outcome) {
        case (.hubContinuation, .value(let got)): return got == value
        case (.sleepInScope, .value(let got)): return got == 0 || got == 1
        case (.sleepInScope, _): return outcome == .cancelled
        case (.hubContinuation, _): return outcome == .timedOut || outcome == .cancelled
        case (_, .value(let events)): return events == Int(IOEvents.read.rawValue)
        default: return outcome == .timedOut || outcome == .cancelled
        }
    }
}

/// How one racing task ended.
enum RaceOutcome: Hashable, Sendable, CustomStringConvertible {
    case value(Int)
    case events(Int32)
    case timedOut
    case cancelled
    case closedInAnotherTask
    case shutDown(String)
    case other(String)

    init<T: BinaryInteger>(of task: Task<T, any Error>) async {
        switch await task.result {
        case .success(let value): self = T.self == Int32.self ? .events(Int32(value)) : .value(Int(value))
        case .failure(let error as SystemError) where error == .closedInAnotherTask: self = .closedInAnotherTask
        case .failure(is TimeoutError): self = .timedOut
        case .failure(is CancellationError): self = .cancelled
        case .failure(HubError.shutDown(let hub)): self = .shutDown(hub)
        case .failure(let error): self = .other("\(type(of: error)): \(error)")
        }
    }

    var description: String {
        switch self {
        case .value(let value): "value \(value)"
        case .events(let events): "events \(events)"
        case .timedOut: "timed out"
        case .cancelled: "cancelled"
        case .closedInAnotherTask: "closed in another task"
        case .shutDown: "shut down"
        case .other(let text): text
        }
    }
}

/// Outcome counts, by kind.
struct Tally: CustomStringConvertible {
    private var counts: [String: Int] = [:]
    private(set) var total = 0

    mutating func add(_ outcome: RaceOutcome) {
        let key = if case .value = outcome { "value" } else { outcome.description }
        counts[key, default: 0] += 1
        total += 1
    }

    func count(_ outcome: RaceOutcome) -> Int { counts[outcome.description] ?? 0 }

    var description: String { counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") }
}
