import EvergreenHub
import EvergreenTestSupport
import Synchronization
import Testing

// What the race tests (RaceTests.swift) need beside EvergreenTestSupport's
// racer thread and descriptor and thread checks.

/// A `HubContinuation` handed from the waiting task to the racing thread.
final class ContinuationSlot: @unchecked Sendable {
    // A pthread mutex (NSLockLike), which ThreadSanitizer understands.
    private let lock = NSLockLike()
    private var continuation: HubContinuation<Int>?
    func set(_ value: HubContinuation<Int>) { lock.with { continuation = value } }
    /// Resumes it if the task got as far as making it.
    func resume(returning value: Int) { lock.with { continuation }?.resume(returning: value) }
}

/// A counter shared with closures on other threads.
final class Counter: Sendable {
    private let count = Atomic<Int>(0)
    func add() { count.add(1, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}

/// A hub, not kept alive: to see that it was freed.
final class WeakHub: @unchecked Sendable {
    weak var hub: Hub?
    init(_ hub: Hub) { self.hub = hub }
}

/// Polls `condition` (yielding in between) for up to 10 seconds.
func expectEventually(_ what: String, sourceLocation: SourceLocation = #_sourceLocation, _ condition: () -> Bool) async throws {
    if !(await poll(until: condition)) {
        Issue.record("never happened: \(what)", sourceLocation: sourceLocation)
    }
}
