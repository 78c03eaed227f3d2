import Sockets
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

// What the close races (CloseRaceTests.swift) need: the racing thread, raw
// descriptor actions it takes, and the checks that every socket was closed.

func describeRaces(_ tally: [RaceResult: Int]) -> String {
    tally.map { "\($0.key) \($0.value)" }.sorted().joined(separator: ", ")
}

/// A connected pair: loopback TCP through `listener`, or a Unix socketpair.
func racePair(tcp: Bool, listener: Socket) async throws -> (Socket, Socket) {
    guard tcp else { return try socketpair() }
    let client = try Socket()
    try await client.connect(to: try listener.localAddress())
    try listener.setTimeout(nil)
    defer { try? listener.setTimeout(.zero) }
    let (server, _) = try await listener.accept()
    return (client, server)
}

/// The inodes of every socket a test made (hub thread only), to check that
/// each one was closed: exact, whatever the tests running alongside open.
final class SocketLedger: @unchecked Sendable {
    private(set) var inodes: Set<UInt64> = []

    func track(_ sockets: Socket...) { track(sockets) }

    func track(_ sockets: [Socket]) {
        for socket in sockets {
            var info = stat()
            if fstat(socket.fileDescriptor, &info) == 0 { inodes.insert(UInt64(info.st_ino)) }
        }
    }
}

/// The open descriptors of the process, by what they refer to ("socket:[123]").
struct DescriptorSnapshot {
    let targets: [String]

    static func take() -> DescriptorSnapshot { DescriptorSnapshot(targets: openDescriptors()) }
}

/// No socket the test made is still open, and the process holds no more
/// descriptors than before, within what parallel tests may hold (a leak
/// per iteration would be thousands).
func expectRaceSocketsClosed(_ ledger: SocketLedger, before: DescriptorSnapshot,
                          sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let open = DescriptorSnapshot.take().targets.filter { target in
        target.hasPrefix("socket:[") && UInt64(target.dropFirst(8).dropLast()).map(ledger.inodes.contains) == true
    }
    #expect(open.isEmpty, "\(open.count) of the test's \(ledger.inodes.count) sockets still open: \(open.prefix(5))...",
            sourceLocation: sourceLocation)
    var now = DescriptorSnapshot.take()
    let deadline = ContinuousClock.now.advanced(by: .seconds(10))
    while now.targets.count > before.targets.count + 64, ContinuousClock.now < deadline {
        await Task.yield()
        now = DescriptorSnapshot.take()
    }
    #expect(now.targets.count <= before.targets.count + 64,
            "descriptors: \(before.targets.count) before, \(now.targets.count) after", sourceLocation: sourceLocation)
}

func expectNoRaceWaits(_ hub: Hub, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let stats = try await hub.statistics()
    #expect(stats.pendingWaits == 0, "pending waits left", sourceLocation: sourceLocation)
    #expect(stats.activeWatchers == 0, "watchers left", sourceLocation: sourceLocation)
}

/// A socket handed to the racer thread, which may only close it (close()
/// off the hub hands the close to the hub).
struct SmuggledSocket: @unchecked Sendable {
    let value: Socket
    init(_ value: Socket) { self.value = value }
}

/// One byte from a raw descriptor, from any thread.
func sendRawByte(_ fd: Int32) {
    var byte: UInt8 = 0x78
    _ = Glibc.send(fd, &byte, 1, Int32(MSG_NOSIGNAL))
}

/// Reads up to `bytes` from a raw non-blocking descriptor, for a bounded
/// number of tries (it stops early at end of stream or an error).
func drainRaw(_ fd: Int32, bytes: Int) {
    var buffer = [UInt8](repeating: 0, count: 65536)
    var total = 0
    for _ in 0..<2_000 where total < bytes {
        let got = Glibc.recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        if got > 0 {
            total += got
        } else if got == 0 || errno != EAGAIN {
            return
        } else {
            sched_yield()
        }
    }
}

/// A blocking loopback connect from the racer thread, closed at once.
func connectRawAndClose(port: UInt16) {
    let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard fd >= 0 else { return }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = port.bigEndian
    address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    _ = Glibc.close(fd)
}

/// A thread that runs the closures handed to it, in order: the other side of each race.
final class Racer: @unchecked Sendable {
    // A pthread mutex, not `Mutex`: ThreadSanitizer does not see the
    // ordering of Synchronization's futex-based lock and reports a race.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var queue: [@Sendable () -> Void] = []
    private let ready = UnsafeMutablePointer<sem_t>.allocate(capacity: 1)
    private var thread = pthread_t()

    init() {
        sem_init(ready, 0, 0)
        pthread_mutex_init(mutex, nil)
        let me = Unmanaged.passRetained(self).toOpaque()
        pthread_create(&thread, nil, { arg in
            Unmanaged<Racer>.fromOpaque(arg!).takeRetainedValue().loop()
            return nil
        }, me)
    }

    private func loop() {
        while true {
            while sem_wait(ready) != 0 {}
            pthread_mutex_lock(mutex)
            let body = queue.isEmpty ? nil : queue.removeFirst()
            pthread_mutex_unlock(mutex)
            guard let body else { return }
            body()
        }
    }

    /// Hands `body` to the thread and returns at once.
    func fire(_ body: @escaping @Sendable () -> Void) {
        pthread_mutex_lock(mutex)
        queue.append(body)
        pthread_mutex_unlock(mutex)
        sem_post(ready)
    }

    /// Runs `body` on the thread and suspends on `hub` until it is done;
    /// what `body` handed to the hub (a close) has run by then.
    func run(on hub: Hub, _ body: @escaping @Sendable () -> Void) async throws {
        try await withHubContinuation(hub: hub) { (done: HubContinuation<Void>) in
            fire { body(); done.resume(returning: ()) }
        }
    }

    /// Ends the thread after the closures already handed over, and joins it.
    func stop() {
        sem_post(ready)
        pthread_join(thread, nil)
        sem_destroy(ready)
        ready.deallocate()
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }
}

/// Busy-waits about `turns` loop turns: a few microseconds of skew between the racers.
func raceSpin(_ turns: Int) {
    var sum = 0
    for turn in 0..<turns { sum &+= turn }
    raceSpinSink.store(sum, ordering: .relaxed)
}

private let raceSpinSink = Atomic<Int>(0)

/// `count` in a plain debug build; under a sanitizer (EVG_TEST_SLOWDOWN) fewer
/// by the slowdown squared, so as not to starve the tests running alongside.
func raceIterations(_ count: Int) -> Int {
    let slowdown = getenv("EVG_TEST_SLOWDOWN").flatMap { Int(String(cString: $0)) } ?? 1
    return max(count / max(slowdown * slowdown, 1), 100)
}
