import EvergreenHub
import EvergreenTestSupport
import Synchronization
import Testing

/// `shutdown()` from two threads at once: each call returns only once the
/// hub's thread has finished, not just stopped its loop (the second caller
/// used to return while the first was still joining). The last thing the
/// thread does is drop the hub's stored values, so a stored value whose
/// deinit has not run yet means a call returned too early.
@Suite("Hub shutdown from two threads")
struct ShutdownJoinTests {
    @Test func bothCallersReturnOnlyAfterTheThreadHasFinished() async throws {
        let racer = RacerThread()
        defer { racer.stop() }
        let early = Atomic<Int>(0)
        for round in 0..<raceIterations(1000) {
            let hub = Hub(name: "sdj-\(round)", threadPoolSize: 1)
            let released = Atomic<Bool>(false)
            // The hub holds the only reference.
            _ = hub.replaceStoredValue(for: ObjectIdentifier(ReleaseMarker.self),
                                       with: ReleaseMarker { released.store(true, ordering: .releasing) })
            async let other: Void = racer.run {
                hub.shutdown()
                if !released.load(ordering: .acquiring) { early.add(1, ordering: .relaxed) }
            }
            hub.shutdown()
            if !released.load(ordering: .acquiring) { early.add(1, ordering: .relaxed) }
            await other
        }
        #expect(early.load(ordering: .relaxed) == 0, "a shutdown() returned before the hub's thread had finished")
    }
}

/// Runs `onRelease` when the last reference goes.
private final class ReleaseMarker: Sendable {
    let onRelease: @Sendable () -> Void
    init(_ onRelease: @escaping @Sendable () -> Void) { self.onRelease = onRelease }
    deinit { onRelease() }
}
