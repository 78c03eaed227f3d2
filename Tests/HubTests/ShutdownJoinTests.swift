import EvergreenHub
import Synchronization
import Testing

/// `shutdown()` from two threads at once: each call returns only once the
/// hub's thread is gone, not just stopped (the second caller used to return
/// while the first was still joining).
@Suite("Hub shutdown from two threads")
struct ShutdownJoinTests {
    @Test func bothCallersReturnOnlyAfterTheThreadHasExited() async throws {
        let racer = RacerThread()
        defer { racer.stop() }
        let leftBehind = Atomic<Int>(0)
        for round in 0..<raceIterations(200) {
            let name = "sdj-\(round)"
            let hub = Hub(name: name, threadPoolSize: 1)
            async let other: Void = racer.run {
                hub.shutdown()
                if threadNames().contains("evg-\(name)") { leftBehind.add(1, ordering: .relaxed) }
            }
            hub.shutdown()
            if threadNames().contains("evg-\(name)") { leftBehind.add(1, ordering: .relaxed) }
            await other
        }
        #expect(leftBehind.load(ordering: .relaxed) == 0, "a shutdown() returned while the hub's thread was still running")
    }
}
