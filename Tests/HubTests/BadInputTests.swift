import EvergreenHub
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Every wait-API entry point against `Fixtures/bad-input/hub.json`: a bad
/// descriptor, event set or timeout is a thrown error with a clear message,
/// at once, never a crash or a hang, and it leaves nothing behind on the hub.
@Suite("Bad input: the wait API", .timeLimit(.minutes(1)))
struct HubBadInputTests {
    static let corpus = HubBadInput.corpus

    @Test(arguments: corpus.descriptors)
    func rawWaitsRefuseTheDescriptor(_ bad: HubBadInput.Descriptor) async throws {
        let hub = Hub(name: "bad-fd")
        defer { hub.shutdown() }
        let fd = try bad.number()
        let calls: [(String, @Sendable () async throws -> Void)] = [
            ("waitRead", { try await waitRead(fd) }),
            ("waitWrite", { try await waitWrite(fd) }),
            ("waitReadWrite", { try await waitReadWrite(fd) }),
            ("waitRead with timeout", { try await waitRead(fd, timeout: .seconds(30)) }),
            ("waitWrite quiet timeout", { try await waitWrite(fd, timeout: .seconds(30), onTimeout: .returnEmpty) }),
        ]
        for (name, call) in calls {
            // On a hub of the test's own, and off every hub (the default hub).
            let onHub = await thrownError("\(name)(\(fd)) on a hub") { try await hub.run { try await call() } }
            expectBadDescriptor(onHub, bad, "\(name)(\(fd)) on a hub")
            let offHub = await thrownError("\(name)(\(fd)) off the hubs") { try await call() }
            expectBadDescriptor(offHub, bad, "\(name)(\(fd)) off the hubs")
        }
        try await expectNothingLeft(on: hub)
    }

    @Test(arguments: corpus.descriptors)
    func watchersRefuseTheDescriptor(_ bad: HubBadInput.Descriptor) async throws {
        let hub = Hub(name: "bad-fd-watcher")
        defer { hub.shutdown() }
        let fd = try bad.number()
        for events in [IOEvents.read, .write, [.read, .write]] {
            let error = await thrownError("IOWatcher(\(fd), \(events))") {
                let watcher = try IOWatcher(fileDescriptor: fd, events: events, hub: hub)
                defer { cancelWait(watcher) }
                try await watcher.wait(timeout: .seconds(30))
            }
            expectBadDescriptor(error, bad, "IOWatcher(\(fd), \(events))")
            // A second wait on the same watcher fails the same way.
            if let watcher = try? IOWatcher(fileDescriptor: fd, events: events, hub: hub) {
                _ = try? await hub.run { try await watcher.wait(timeout: .zero) }
                let again = await thrownError("second wait on IOWatcher(\(fd))") { _ = try await hub.run { try await wait(watcher) } }
                expectBadDescriptor(again, bad, "second wait on IOWatcher(\(fd))")
            }
        }
        try await expectNothingLeft(on: hub)
    }

    @Test(arguments: corpus.events)
    func watchersRefuseTheEventSet(_ bad: HubBadInput.Events) async throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw SystemError.lastError() }
        defer { _ = close(fds[0]); _ = close(fds[1]) }
        let readEnd = fds[0]
        let hub = Hub(name: "bad-events")
        defer { hub.shutdown() }
        let error = await thrownError("IOWatcher(events: \(bad.raw))") {
            let watcher = try IOWatcher(fileDescriptor: readEnd, events: IOEvents(rawValue: bad.raw), hub: hub)
            // Were it made, a wait would reach libev, which aborts on a bad mask.
            _ = try await watcher.wait(timeout: .zero, onTimeout: .returnEmpty)
        }
        #expect(error is HubError, "\(bad.id): \(String(describing: error))")
        #expect(error.map { "\($0)" }?.contains(bad.message) == true, "\(bad.id): \(String(describing: error))")
        try await expectNothingLeft(on: hub)
    }

    @Test(arguments: corpus.durations)
    func everyTimeoutParameterChecksTheDuration(_ bad: HubBadInput.Timeout) async throws {
        let hub = Hub(name: "bad-timeout", threadPoolSize: 1)
        defer { hub.shutdown() }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw SystemError.lastError() }
        defer { _ = close(fds[0]); _ = close(fds[1]) }
        var byte: UInt8 = 1
        _ = write(fds[1], &byte, 1)  // readable, so accepted timeouts return at once
        let (readEnd, writeEnd) = (fds[0], fds[1])
        let duration = bad.duration
        let calls: [(String, @Sendable () async throws -> Void)] = [
            ("waitRead", { _ = try await waitRead(readEnd, timeout: duration) }),
            ("waitWrite", { _ = try await waitWrite(writeEnd, timeout: duration) }),
            ("IOWatcher.wait", { _ = try await IOWatcher(fileDescriptor: readEnd, events: .read).wait(timeout: duration) }),
            ("hub.sleep", { _ = try await withTimeoutOrNil(.milliseconds(50)) { try await hub.sleep(for: duration) } }),
            ("withTimeout", { _ = try await withTimeout(duration) { 1 } }),
            ("withTimeoutOrNil", { _ = try await withTimeoutOrNil(duration) { 1 } }),
            ("withHubContinuation", {
                let value: Int = try await withHubContinuation(timeout: duration) { $0.resume(returning: 1) }
                _ = value
            }),
            ("threadPool.run", { _ = try await hub.threadPool.run(timeout: duration) { 1 } }),
        ]
        for (name, call) in calls {
            if bad.accepted != nil {
                do {
                    try await withTimeout(.seconds(5), throwing: Hung()) { try await hub.run { try await call() } }
                } catch is TimeoutError where bad.mayTimeOut == true {
                    continue
                } catch {
                    Issue.record("\(name)(timeout: \(bad.id)) threw \(error); expected to be accepted (\(bad.accepted!))")
                }
                continue
            }
            let error = await thrownError("\(name)(timeout: \(bad.id))") { try await hub.run { try await call() } }
            #expect(error is HubError, "\(name)(timeout: \(bad.id)): \(String(describing: error))")
            let text = error.map { "\($0)" } ?? ""
            #expect(text.contains(bad.message ?? "?"), "\(name)(timeout: \(bad.id)): '\(text)'")
        }
        try await expectNothingLeft(on: hub)
    }

    @Test func oddHubAndPoolSizesAndNamesAreClampedOrKept() async throws {
        for (name, threads) in [("", -5), ("nul\u{0}inside", 0), (String(repeating: "n", count: 10_000), Int.min), ("🌲", 1)] {
            let hub = Hub(name: name, threadPoolSize: threads)
            #expect(hub.threadPool.threads == 1)
            #expect(try await hub.run { 7 } == 7)
            #expect(try await hub.threadPool.run { 8 } == 8)
            hub.shutdown()
        }
        let pool = ThreadPool(threads: -1, queueLimit: Int.min, name: "")
        defer { pool.shutdown() }
        #expect(pool.threads == 1 && pool.queueLimit == 1)
        #expect(try await testHub.run { try await pool.run { 9 } } == 9)
    }

    @Test func aStoppedHubLetsGoOfStoredValuesThatHoldIt() async throws {
        // What LeakSanitizer found: a hub whose resolver (stored in the hub)
        // holds the hub was never freed, nor its loop and descriptors.
        final class HoldsHub: Sendable {
            let hub: Hub
            init(_ hub: Hub) { self.hub = hub }
        }
        weak var weakHub: Hub?
        do {
            let hub = Hub(name: "held")
            _ = hub.storedValue(for: ObjectIdentifier(HoldsHub.self)) { HoldsHub(hub) }
            #expect(try await hub.run { 1 } == 1)
            weakHub = hub
            hub.shutdown()
        }
        #expect(weakHub == nil, "the hub outlived its shutdown and its last reference")
    }

    // MARK: Helpers

    private func expectBadDescriptor(_ error: (any Error)?, _ bad: HubBadInput.Descriptor, _ what: String,
                                     sourceLocation: SourceLocation = #_sourceLocation) {
        guard let error else { return }
        guard let system = error as? SystemError else {
            Issue.record("\(what) [\(bad.id)]: expected SystemError EBADF, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
            return
        }
        #expect(system.code == EBADF, "\(what) [\(bad.id)]: \(system)", sourceLocation: sourceLocation)
        #expect("\(system)".contains(bad.message), "\(what) [\(bad.id)]: '\(system)'", sourceLocation: sourceLocation)
    }

    /// No wait pending and no watcher started: what a refused call left behind.
    private func expectNothingLeft(on hub: Hub, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let statistics = try await hub.statistics()
        #expect(statistics.pendingWaits == 0, "\(statistics)", sourceLocation: sourceLocation)
        #expect(statistics.activeWatchers == 0, "\(statistics)", sourceLocation: sourceLocation)
    }
}
