import EvergreenTestSupport
import Testing
@testable import Resolvers

/// The thread backend's pool: cancellation, bounds, closing. Work that must
/// block is a gate on the resolver's own pool (`runOnPool`, the path every
/// lookup takes), so these need no DNS.
@Suite("ThreadResolver pool")
struct ThreadResolverTests {
    @Test("cancelling a task whose call is running returns at once; the call finishes in the background")
    func cancelRunning() async throws {
        let hub = Hub(name: "cancel-running")
        defer { hub.shutdown() }
        let resolver = ThreadResolver(threads: 1)
        let gate = Gate(), started = Event(), finished = Event()
        let task = hub.spawn {
            try await resolver.runOnPool {
                started.fire()
                gate.waitUntilOpen()
                finished.fire()
                return 42
            }
        }
        await started.wait()
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(!finished.isFired)  // returned while the call still blocks its thread
        gate.open()
        await finished.wait()
        // The thread is free again: the next call runs on it.
        #expect(try await hub.run { try await resolver.runOnPool { 7 } } == 7)
        #expect(resolver.pool.threadCount == 1)
        await resolver.close()
    }

    @Test("cancelling a queued call returns at once and the call never runs")
    func cancelQueued() async throws {
        let hub = Hub(name: "cancel-queued")
        defer { hub.shutdown() }
        let resolver = ThreadResolver(threads: 1)
        let gate = Gate(), started = Event(), ranQueued = Event()
        let blocker = hub.spawn { try await resolver.runOnPool { started.fire(); gate.waitUntilOpen() } }
        await started.wait()
        let queued = hub.spawn { try await resolver.runOnPool { ranQueued.fire() } }
        #expect(try await hub.run { await yieldUntil { resolver.pool.queuedCount == 1 } })
        queued.cancel()
        await #expect(throws: CancellationError.self) { try await queued.value }
        gate.open()
        try await blocker.value
        #expect(try await hub.run { try await resolver.runOnPool { 1 } } == 1)
        #expect(!ranQueued.isFired)
        await resolver.close()
    }

    @Test("withTimeout interrupts a waiting call with TimeoutError")
    func timeout() async throws {
        let hub = Hub(name: "timeout")
        defer { hub.shutdown() }
        let resolver = ThreadResolver(threads: 1)
        let gate = Gate()
        await #expect(throws: TimeoutError.self) {
            try await hub.run {
                try await withTimeout(.milliseconds(20)) { try await resolver.runOnPool { gate.waitUntilOpen() } }
            }
        }
        gate.open()
        await resolver.close()
    }

    @Test("the pool never grows beyond its threads, and a full queue is refused")
    func bounded() async throws {
        let hub = Hub(name: "bounded")
        defer { hub.shutdown() }
        let resolver = ThreadResolver(threads: 3, queueLimit: 5)
        let gate = Gate()
        func submit(_ range: Range<Int>) -> [Task<Int, any Error>] {
            range.map { index in hub.spawn { try await resolver.runOnPool { gate.waitUntilOpen(); return index } } }
        }
        // Three calls take the three threads, five more fill the queue.
        defer { gate.open() }  // never leave threads blocked, even when an expectation fails
        var tasks = submit(0..<3)
        try #require(try await hub.run { await yieldUntil { resolver.pool.runningCount == 3 } })
        tasks += submit(3..<8)
        try #require(try await hub.run { await yieldUntil { resolver.pool.queuedCount == 5 } })
        await #expect(throws: HubError.saturated(what: "thread pool 'evg-resolver' queue", limit: 5)) {
            // Bounded wait: were it queued, it would wait for the gate.
            try await hub.run { try await withTimeout(.seconds(10)) { try await resolver.runOnPool { -1 } } }
        }
        gate.open()
        var sum = 0
        for task in tasks { sum += try await task.value }
        #expect(sum == (0..<8).reduce(0, +))
        #expect(resolver.pool.threadCount == 3)
        await resolver.close()
    }

    @Test("close: new calls fail at once, calls in flight finish, then the threads go")
    func close() async throws {
        let hub = Hub(name: "close")
        defer { hub.shutdown() }
        let resolver = ThreadResolver(threads: 2)
        let gate = Gate(), started = Event()
        let inFlight = hub.spawn { try await resolver.runOnPool { started.fire(); gate.waitUntilOpen(); return "done" } }
        await started.wait()
        resolver.beginClose()
        #expect(resolver.isClosed)
        await #expect(throws: ResolverClosedError(resolver: "thread")) {
            try await hub.run { try await resolver.getaddrinfo(host: "1.2.3.4", port: 80) }
        }
        await #expect(throws: ResolverClosedError(resolver: "thread")) { try await hub.run { try await resolver.runOnPool { 0 } } }
        gate.open()
        #expect(try await inFlight.value == "done")
        await resolver.close()  // returns once the pool's threads have exited
        #expect(resolver.pool.queuedCount == 0 && resolver.pool.runningCount == 0)
    }
}

/// Real lookups on the pool: only inside the DNS world.
@Suite("ThreadResolver lookups", .enabled(if: insideDNSWorld, "resolves names: run inside scripts/dnsworld"))
struct ThreadResolverLookupTests {
    @Test("many lookups at once on a small pool: all answered, the pool stays at its size")
    func manyAtOnce() async throws {
        let hub = Hub(name: "many")
        defer { hub.shutdown() }
        let resolver = ThreadResolver(threads: 3)
        let names = (0..<200).map { index -> String in
            let digits = String(index)
            return "b" + String(repeating: "0", count: 5 - digits.count) + digits + ".bench.evergreen.test"
        }
        let answers = try await hub.run {
            try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for (index, name) in names.enumerated() {
                    group.addTask {
                        (index, try await resolver.gethostbyname(name))
                    }
                }
                var answers = [String](repeating: "", count: names.count)
                for try await (index, address) in group { answers[index] = address }
                return answers
            }
        }
        // gen-bench.sh: bNNNNN has 203.0.113.(N mod 254 + 1).
        #expect(answers == (0..<200).map { "203.0.113.\($0 % 254 + 1)" })
        #expect(resolver.pool.threadCount == 3)
        await resolver.close()
    }

    @Test("cancelling a real lookup returns CancellationError at once")
    func cancelLookup() async throws {
        let hub = Hub(name: "cancel-lookup")
        defer { hub.shutdown() }
        let resolver = ThreadResolver(threads: 1)
        let gate = Gate(), started = Event()
        let blocker = hub.spawn { try await resolver.runOnPool { started.fire(); gate.waitUntilOpen() } }
        await started.wait()
        let lookup = hub.spawn { try await resolver.getaddrinfo(host: "one.evergreen.test", port: 80) }
        #expect(try await hub.run { await yieldUntil { resolver.pool.queuedCount == 1 } })
        lookup.cancel()
        await #expect(throws: CancellationError.self) { try await lookup.value }
        gate.open()
        try await blocker.value
        let answer = try await hub.run { try await resolver.getaddrinfo(host: "one.evergreen.test", port: 80, type: .stream) }
        #expect(answer == [AddressInfo(family: .inet, type: .stream, proto: .tcp, address: .inet(host: "192.0.2.10", port: 80))])
        await resolver.close()
    }
}
