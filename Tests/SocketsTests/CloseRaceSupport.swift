import EvergreenTestSupport
import Sockets
import Testing
#if canImport(Glibc)
import Glibc
#endif

// What the close races (CloseRaceTests.swift) need beside EvergreenTestSupport's
// racer thread: the harness of a race over connected pairs, raw descriptor
// actions the racer takes, and the checks that every socket was closed.

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

/// No socket the test made is still open, and the process holds no more
/// descriptors than before, within what parallel tests may hold (a leak
/// per iteration would be thousands).
func expectRaceSocketsClosed(_ ledger: SocketLedger, before: DescriptorCensus,
                             sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let open = DescriptorCensus.take().targets.values.filter { target in
        target.hasPrefix("socket:[") && UInt64(target.dropFirst(8).dropLast()).map(ledger.inodes.contains) == true
    }
    #expect(open.isEmpty, "\(open.count) of the test's \(ledger.inodes.count) sockets still open: \(open.prefix(5))...",
            sourceLocation: sourceLocation)
    try await expectDescriptorsBack(to: before, sourceLocation: sourceLocation)
}

/// Races on `iterations` fresh connected pairs (loopback TCP and Unix in
/// turn) on a hub named `name`, tallying what `race` returns for each; the
/// pair is closed after it. Prints the tally under `label`, then checks that
/// the hub has no waits or watchers left and that every socket was closed.
func raceOverPairs(name: String, label: String, iterations: Int, sourceLocation: SourceLocation = #_sourceLocation,
                   race: @escaping @Sendable (_ iteration: Int, _ hub: Hub, _ racer: RacerThread,
                                              _ client: Socket, _ server: Socket) async throws -> RaceResult) async throws {
    let racer = RacerThread()
    defer { racer.stop() }
    let ledger = SocketLedger()
    let before = DescriptorCensus.take()
    let tally = try await onHub(name) { hub in
        let listener = try loopbackServer(backlog: 128)
        defer { listener.close() }
        ledger.track(listener)
        var tally: [RaceResult: Int] = [:]
        for i in 0..<iterations {
            let (client, server) = try await racePair(tcp: i % 2 == 0, listener: listener)
            ledger.track(client, server)
            let result = try await race(i, hub, racer, client, server)
            tally[result, default: 0] += 1
            client.close()
            server.close()
        }
        try await expectQuiet(hub, sourceLocation: sourceLocation)
        return tally
    }
    print("\(label), \(iterations) iterations: \(describeRaces(tally))")
    try await expectRaceSocketsClosed(ledger, before: before, sourceLocation: sourceLocation)
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
