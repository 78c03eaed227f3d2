import EvergreenHub
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

// What the race tests (RaceTests.swift) need: the racing thread, and the
// checks that a batch left no waits, descriptors, threads or hubs behind.

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

/// A thread that runs closures handed to it, in order: the other side of each race.
final class RacerThread: @unchecked Sendable {
    private let lock = NSLockLike()
    private let ready = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
    private var queue: [@Sendable () -> Void] = []
    private var thread = pthread_t()

    init() {
        sem_init(ready, 0, 0)
        let me = Unmanaged.passRetained(self).toOpaque()
        pthread_create(&thread, nil, { arg in
            let racer = Unmanaged<RacerThread>.fromOpaque(arg!).takeRetainedValue()
            racer.loop()
            return nil
        }, me)
    }

    private func loop() {
        while true {
            while sem_wait(ready) != 0 {}
            guard let body = lock.with({ queue.isEmpty ? nil : queue.removeFirst() }) else { return }
            body()
        }
    }

    /// Hands `body` to the thread and returns at once.
    func fire(_ body: @escaping @Sendable () -> Void) {
        lock.with { queue.append(body) }
        sem_post(ready)
    }

    /// Runs `body` on the thread and suspends (on `hub`) until it is done.
    /// Completions reach the hub in order, after anything `body` posted.
    func run(on hub: Hub, _ body: @escaping @Sendable () -> Void) async throws {
        try await withHubContinuation(hub: hub) { (done: HubContinuation<Void>) in
            fire { body(); done.resume(returning: ()) }
        }
    }

    /// Runs `body` on the thread; the caller suspends without blocking a thread.
    func run(_ body: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            fire { body(); done.resume() }
        }
    }

    /// Ends the thread after the closures already handed over, and joins it.
    func stop() {
        sem_post(ready)
        pthread_join(thread, nil)
        sem_destroy(ready)
        ready.deallocate()
    }
}

/// Busy-waits about `turns` loop turns: a few microseconds of skew between the racers.
func spin(_ turns: Int) {
    var sum = 0
    for turn in 0..<turns { sum &+= turn }
    spinSink.store(sum, ordering: .relaxed)
}

private let spinSink = Atomic<Int>(0)

/// Iterations for a race loop: `count` in a plain debug build; under a
/// sanitizer (which sets EVG_TEST_SLOWDOWN) fewer by the slowdown squared:
/// each iteration is that much slower, and these loops must not starve the
/// tests running alongside, whose hang guards are wall-clock bounds.
func raceIterations(_ count: Int) -> Int {
    let slowdown = getenv("EVG_TEST_SLOWDOWN").flatMap { Int(String(cString: $0)) } ?? 1
    return max(count / max(slowdown * slowdown, 1), 100)
}

/// The hub has no waits, watchers or queued jobs left.
func expectQuiet(_ hub: Hub, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let stats = try await hub.statistics()
    #expect(stats.pendingWaits == 0, "pending waits left", sourceLocation: sourceLocation)
    #expect(stats.activeWatchers == 0, "watchers left", sourceLocation: sourceLocation)
}

/// Polls `condition` (yielding in between) for up to 10 seconds.
func expectEventually(_ what: String, sourceLocation: SourceLocation = #_sourceLocation, _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now.advanced(by: .seconds(10))
    while !condition() {
        if ContinuousClock.now > deadline {
            Issue.record("never happened: \(what)", sourceLocation: sourceLocation)
            return
        }
        await Task.yield()
    }
}

/// The process's descriptors against `before`: other tests running in
/// parallel open and close their own, so a margin is allowed, far below what
/// a leak per iteration of a race loop would add.
func expectDescriptorsBack(to before: DescriptorCensus, margin: Int = 64,
                           sourceLocation: SourceLocation = #_sourceLocation) async throws {
    var now = DescriptorCensus.take()
    let deadline = ContinuousClock.now.advanced(by: .seconds(10))
    while now.count > before.count + margin, ContinuousClock.now < deadline {
        await Task.yield()
        now = DescriptorCensus.take()
    }
    #expect(now.count <= before.count + margin, "descriptors: \(before.count) before, \(now.count) after",
            sourceLocation: sourceLocation)
}

/// The open descriptors of the process and what each refers to ("pipe:[123]").
struct DescriptorCensus {
    let targets: [Int32: String]
    var count: Int { targets.count }

    static func take() -> DescriptorCensus {
        var targets: [Int32: String] = [:]
        guard let directory = opendir("/proc/self/fd") else { return DescriptorCensus(targets: [:]) }
        defer { closedir(directory) }
        let own = dirfd(directory)
        while let entry = readdir(directory) {
            let name = entryName(entry)
            guard let fd = Int32(name), fd != own else { continue }
            var buffer = [CChar](repeating: 0, count: 256)
            let length = readlink("/proc/self/fd/\(name)", &buffer, buffer.count - 1)
            targets[fd] = length > 0 ? String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?"
        }
        return DescriptorCensus(targets: targets)
    }
}

/// The names of the process's threads (`/proc/self/task/*/comm`).
func threadNames() -> [String] {
    guard let directory = opendir("/proc/self/task") else { return [] }
    defer { closedir(directory) }
    var names: [String] = []
    while let entry = readdir(directory) {
        let tid = entryName(entry)
        guard Int(tid) != nil, let file = fopen("/proc/self/task/\(tid)/comm", "r") else { continue }
        var buffer = [CChar](repeating: 0, count: 64)
        if fgets(&buffer, Int32(buffer.count), file) != nil {
            names.append(String(String(cString: buffer).prefix { $0 != "\n" }))
        }
        fclose(file)
    }
    return names
}

/// The name in a `readdir` entry, read in place: a short entry's record ends
/// before the 256 bytes `d_name` is declared with, so copying the field
/// (or the struct) reads past glibc's buffer.
private func entryName(_ entry: UnsafeMutablePointer<dirent>) -> String {
    withUnsafePointer(to: &entry.pointee.d_name) { $0.withMemoryRebound(to: CChar.self, capacity: 1) { String(cString: $0) } }
}
