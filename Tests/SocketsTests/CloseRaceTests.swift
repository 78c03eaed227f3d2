import EvergreenTestSupport
import Sockets
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

// close() and shutdown() raced against a task blocked in recv, accept,
// sendAll or connect on the same socket, thousands of times, over loopback
// TCP and Unix socket pairs. The other side of each race (data arriving, a
// peer draining, a connection coming in, the close itself) runs on another
// thread or in another task of the hub. The blocked task must end with the
// call's result (it won the race) or EBADF, never hang; afterwards the hub
// has no waits or watchers left and every socket the test made is closed.
// The outcome tallies are printed, not asserted: who wins is timing.

@Suite("Races: close and shutdown against blocked socket calls", .timeLimit(.minutes(3)))
struct CloseRaceTests {
    @Test(arguments: BlockedCall.allCases)
    func closeAgainstABlockedCall(_ call: BlockedCall) async throws {
        let racer = RacerThread()
        defer { racer.stop() }
        let ledger = SocketLedger()
        let before = DescriptorCensus.take()
        let iterations = raceIterations(call == .connect ? 2000 : 3000)
        let tally = try await onHub("close-\(call)") { hub in
            let listener = try loopbackServer(backlog: 128)
            defer { listener.close() }
            try listener.setTimeout(.zero)
            let full = try await FullListener()
            defer { full.close() }
            ledger.track(listener, full.listener)
            ledger.track(full.fillers)
            var tally: [RaceResult: Int] = [:]
            for i in 0..<iterations {
                let result = try await call.race(iteration: i, hub: hub, racer: racer, ledger: ledger,
                                                 listener: listener, full: full)
                tally[result, default: 0] += 1
                #expect(result.isEBADF || result == call.success, "iteration \(i), \(call): \(result)")
                if call == .connect {
                    // Accept what got through, so the queue never fills.
                    while let (connection, _) = try? await listener.accept() {
                        ledger.track(connection)
                        connection.close()
                    }
                }
            }
            try await expectQuiet(hub)
            return tally
        }
        print("close vs \(call), \(iterations) iterations: \(describeRaces(tally))")
        #expect(tally.values.reduce(0, +) == iterations)
        try await expectRaceSocketsClosed(ledger, before: before)
    }

    /// shutdown(.write) leaves a blocked recv waiting (it ends with the
    /// peer's reply or end of stream); .read and .both wake it with EBADF
    /// unless data or end of stream got there first.
    @Test(arguments: [ShutdownDirection.write, .read, .both])
    func shutdownAgainstABlockedRecv(_ direction: ShutdownDirection) async throws {
        try await raceOverPairs(name: "shutdown-\(direction)", label: "shutdown(\(direction)) vs recv",
                                iterations: raceIterations(3000)) { i, hub, racer, client, server in
            let target = HubBound(client)
            let reader = hub.spawn { await RaceResult { try await target.value.recv(10).count } }
            if i % 4 != 0 { await Task.yield() }
            let peer = server.fileDescriptor, pause = Int.random(in: 0..<400), sendsData = i % 3 != 0
            racer.fire { raceSpin(pause); if sendsData { sendRawByte(peer) } }
            for _ in 0..<(pause % 5) { await Task.yield() }
            try client.shutdown(direction)
            if direction == .write {
                // The peer sees end of stream, and closes: that, or the data, ends the read.
                #expect(try await server.recv(10).isEmpty)
                try await racer.run(on: hub) {}
                server.close()
            }
            let result = try await reader.value
            try await racer.run(on: hub) {}
            var allowed = direction == .write
                ? [RaceResult.returned(0), .returned(1)]
                : [.returned(0), .returned(1), .closedInAnotherTask]
            // A recv begun after shutdown(.both): Linux resets a TCP
            // connection that gets data once both sides are shut.
            if direction == .both { allowed.append(.connectionReset) }
            #expect(allowed.contains(result), "iteration \(i), shutdown(\(direction)): \(result)")
            return result
        }
    }

    /// A recv with a socket timeout of a few microseconds, its data sent
    /// and its task cancelled from another thread as the timeout passes.
    @Test func socketTimeoutAgainstReadinessAndCancellation() async throws {
        try await raceOverPairs(name: "socket-timeout-race", label: "socket timeout vs readiness vs cancellation",
                                iterations: raceIterations(3000)) { i, hub, racer, client, server in
            try client.setTimeout(.microseconds(Int.random(in: 1...300)))
            let target = HubBound(client)
            let reader = hub.spawn { await RaceResult { try await target.value.recv(10).count } }
            if i % 3 != 0 { await Task.yield() }
            let peer = server.fileDescriptor, pause = Int.random(in: 0..<600), cancelFirst = Bool.random()
            try await racer.run(on: hub) {
                if cancelFirst { reader.cancel() }
                raceSpin(pause)
                sendRawByte(peer)
                if !cancelFirst { reader.cancel() }
            }
            let result = try await reader.value
            #expect([.returned(1), .timedOut, .cancelled].contains(result), "iteration \(i): \(result)")
            return result
        }
    }
}

/// The blocking calls `closeAgainstABlockedCall` races against close().
enum BlockedCall: String, CaseIterable, Sendable, CustomStringConvertible {
    case recv, accept, sendAll, connect

    var description: String { rawValue }

    /// What the call returns when it wins the race.
    var success: RaceResult { self == .recv ? .returned(1) : .returned(0) }

    /// One race: a task blocks in the call on a fresh socket; the racer
    /// thread makes it ready while the socket is closed, by one of four
    /// closers: the racer after (or before) making it ready, this task, or
    /// a sibling task, the last two after a few turns of the loop.
    func race(iteration i: Int, hub: Hub, racer: RacerThread, ledger: SocketLedger,
              listener: Socket, full: FullListener) async throws -> RaceResult {
        let target: Socket
        var peer: Socket?
        let ready: @Sendable () -> Void
        switch self {
        case .recv:
            let (client, server) = try await racePair(tcp: i % 2 == 0, listener: listener)
            (target, peer) = (client, server)
            let fd = server.fileDescriptor
            ready = { sendRawByte(fd) }
        case .sendAll:
            // A small send buffer fills at once; a drain by the peer lets the rest through.
            let (client, server) = try socketpair()
            try client.setOption(.sendBufferSize, 4096)
            (target, peer) = (client, server)
            let fd = server.fileDescriptor
            ready = { drainRaw(fd, bytes: 16 * 1024) }
        case .accept:
            target = try createServer(address: .inet(host: "127.0.0.1", port: 0), backlog: 8)
            let port = try target.localAddress().port
            ready = { connectRawAndClose(port: port) }
        case .connect:
            target = try Socket()
            ready = {}
        }
        ledger.track(target)
        if let peer { ledger.track(peer) }
        defer { peer?.close() }
        let shared = HubBound(target)
        let address = i % 2 == 0 ? try listener.localAddress() : full.address
        let waiter = hub.spawn { () async -> RaceResult in
            await RaceResult {
                let socket = try shared.value
                switch self {
                case .recv: return try await socket.recv(10).count
                case .sendAll: try await socket.sendAll(pattern(16 * 1024))
                case .accept:
                    let (connection, _) = try await socket.accept()
                    ledger.track(connection)
                    connection.close()
                case .connect: try await socket.connect(to: address)
                }
                return 0
            }
        }
        if i % 5 != 0 { await Task.yield() }  // mostly blocked already; sometimes not yet
        let pause = Int.random(in: 0..<400)
        let closable = SmuggledSocket(target)
        switch i % 4 {
        case 0: racer.fire { ready(); raceSpin(pause); closable.value.close() }
        case 1: racer.fire { closable.value.close(); raceSpin(pause); ready() }
        case 2:
            racer.fire { raceSpin(pause); ready() }
            for _ in 0..<(pause % 4) { await Task.yield() }
            target.close()
        default:
            racer.fire { raceSpin(pause); ready() }
            let turns = pause % 4
            hub.spawn { for _ in 0..<turns { await Task.yield() }; try shared.value.close() }
        }
        let result = try await waiter.value
        try await racer.run(on: hub) {}  // its close and readiness are done
        target.close()
        return result
    }
}

/// How a racing socket call ended.
enum RaceResult: Hashable, Sendable, CustomStringConvertible {
    case returned(Int)
    /// EBADF "File descriptor was closed in another task": woken by close.
    case closedInAnotherTask
    /// EBADF with another message: closed before the call (or its retry) began.
    case badDescriptor
    case connectionReset
    case timedOut
    case cancelled
    case other(String)

    init(_ body: () async throws -> Int) async {
        do {
            self = .returned(try await body())
        } catch let error as SystemError where error.code == EBADF {
            self = error == .closedInAnotherTask ? .closedInAnotherTask : .badDescriptor
        } catch let error as SystemError where error.code == ECONNRESET {
            self = .connectionReset
        } catch is TimeoutError {
            self = .timedOut
        } catch is CancellationError {
            self = .cancelled
        } catch {
            self = .other("\(type(of: error)): \(error)")
        }
    }

    var isEBADF: Bool { self == .closedInAnotherTask || self == .badDescriptor }

    var description: String {
        switch self {
        case .returned(let count): "returned \(count)"
        case .closedInAnotherTask: "EBADF closed in another task"
        case .badDescriptor: "EBADF"
        case .connectionReset: "ECONNRESET"
        case .timedOut: "timed out"
        case .cancelled: "cancelled"
        case .other(let text): text
        }
    }
}
