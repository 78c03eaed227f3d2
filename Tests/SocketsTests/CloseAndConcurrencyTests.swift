import Sockets
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// What a task blocked in a socket call ended with.
enum Ending: Sendable, Equatable {
    case returned(Int)
    case systemError(Int32, String)
    case other(String)
}

func ending(_ body: () async throws -> Int) async -> Ending {
    do {
        return .returned(try await body())
    } catch let error as SystemError {
        return .systemError(error.code, error.message)
    } catch {
        return .other("\(error)")
    }
}

let closedInAnotherTask = Ending.systemError(EBADF, "File descriptor was closed in another task")

@Suite("Closing, shutdown and concurrent use", .timeLimit(.minutes(1)))
struct CloseAndConcurrencyTests {
    @Test func closeWakesAWaitingReaderWithEBADFBeforeClosing() async throws {
        try await onHub("close-reader") { hub in
            let (client, server) = try await tcpPair()
            defer { server.close() }
            let shared = HubBound(client)
            let reader = hub.spawn { await ending { try await shared.value.recv(10).count } }
            try await waitForPendingWaits(hub, atLeast: 1)
            client.close()
            #expect(try await reader.value == closedInAnotherTask)
            #expect(client.fileDescriptor == -1)
            #expect(client.isClosed)
            #expect(try await hub.statistics().pendingWaits == 0)
        }
    }

    @Test func closeWakesAWaitingWriterAndAcceptor() async throws {
        try await onHub("close-writer") { hub in
            let (client, server) = try await tcpPair()
            defer { server.close() }
            try await fillSendBuffer(client)
            let listener = try loopbackServer()
            let sharedClient = HubBound(client), sharedListener = HubBound(listener)
            let writer = hub.spawn { await ending { try await sharedClient.value.sendAll(pattern(1 << 20)); return 0 } }
            let acceptor = hub.spawn { await ending { _ = try await sharedListener.value.accept(); return 0 } }
            try await waitForPendingWaits(hub, atLeast: 2)
            client.close()
            listener.close()
            #expect(try await writer.value == closedInAnotherTask)
            #expect(try await acceptor.value == closedInAnotherTask)
        }
    }

    @Test func everyOperationAfterCloseFailsWithEBADF() async throws {
        try await onHub("after-close") { _ in
            let (client, server) = try await tcpPair()
            defer { server.close() }
            client.close()
            client.close()  // twice is fine
            #expect(client.fileDescriptor == -1)
            let recv = await ending { try await client.recv(1).count }
            let send = await ending { try await client.send([1]) }
            let shutdown = await ending { try client.shutdown(.both); return 0 }
            let option = await ending { try client.option(.noDelay) ? 1 : 0 }
            let address = await ending { _ = try client.localAddress(); return 0 }
            for result in [recv, send, shutdown, option, address] {
                guard case .systemError(let code, _) = result else {
                    Issue.record("expected EBADF, got \(result)")
                    continue
                }
                #expect(code == EBADF)
            }
        }
    }

    @Test func shutdownWakesOnlyTheDirectionsItShuts() async throws {
        try await onHub("shutdown") { hub in
            let (client, server) = try await tcpPair()
            defer { client.close(); server.close() }
            let shared = HubBound(client)
            let reader = hub.spawn { await ending { try await shared.value.recv(10).count } }
            try await waitForPendingWaits(hub, atLeast: 1)
            // Shutting the write side leaves the reader waiting...
            try client.shutdown(.write)
            #expect(try await server.recv(10).isEmpty)
            #expect(try await hub.statistics().pendingWaits == 1)
            // ...shutting the read side wakes it.
            try client.shutdown(.read)
            #expect(try await reader.value == closedInAnotherTask)
        }
    }

    @Test func aSecondReaderGetsConcurrentUseErrorAtOnce() async throws {
        try await onHub("two-readers") { hub in
            let (client, server) = try await tcpPair()
            defer { client.close(); server.close() }
            let shared = HubBound(client)
            let first = hub.spawn { try await shared.value.recv(10) }
            try await waitForPendingWaits(hub, atLeast: 1)
            let error = await #expect(throws: ConcurrentUseError.self) { _ = try await client.recv(10) }
            #expect(error.map { "\($0)" } == "This socket is already used by another task")
            // The first reader is unaffected.
            try await server.sendAll("x")
            #expect(try await first.value == Array("x".utf8))
        }
    }

    @Test func aSecondWriterGetsConcurrentUseErrorButAReaderMayRun() async throws {
        try await onHub("two-writers") { hub in
            let (client, server) = try await tcpPair()
            defer { client.close(); server.close() }
            try await fillSendBuffer(client)
            let shared = HubBound(client)
            // Megabytes, not a few bytes: the peer's window can still open
            // just after the buffer fills (receive autotuning), and a short
            // write would then finish without ever waiting.
            let writer = hub.spawn { await ending { try await shared.value.sendAll(pattern(8 << 20)); return 3 } }
            try await waitForPendingWaits(hub, atLeast: 1)
            await #expect(throws: ConcurrentUseError.self) { try await client.sendAll([4]) }
            await #expect(throws: ConcurrentUseError.self) { _ = try await client.send([4]) }
            // One reader and one writer at a time is fine.
            try await server.sendAll("r")
            #expect(try await client.recv(1) == Array("r".utf8))
            client.close()
            #expect(try await writer.value == closedInAnotherTask)
        }
    }

    @Test func usingASocketOffItsHubIsAClearError() async throws {
        let home = Hub(name: "home")
        let away = Hub(name: "away")
        defer { home.shutdown(); away.shutdown() }
        let shared = try await home.run { HubBound(try Socket()) }
        let fromAway = await #expect(throws: WrongHubError.self) {
            try await away.run { _ = try shared.value }
        }
        #expect(fromAway?.hub == "home")
        #expect(fromAway?.callerHub == "away")
        #expect(fromAway.map { "\($0)" }?.contains("belongs to hub 'home'") == true)
        // A socket smuggled out of its box anyway fails the same way.
        let smuggled = try await home.run { UncheckedBox(try shared.value) }
        let error = await #expect(throws: WrongHubError.self) {
            try await away.run { _ = try await smuggled.value.recv(1) }
        }
        #expect(error?.hub == "home")
        let offHub = #expect(throws: WrongHubError.self) { try smuggled.value.setTimeout(nil) }
        #expect(offHub?.callerHub == nil)
        #expect(offHub.map { "\($0)" }?.contains("outside any hub") == true)
        // close() off the hub is handed to the hub.
        smuggled.value.close()
        try await home.run {
            try await eventually("the socket closes on its hub") { smuggled.value.isClosed }
        }
    }

    @Test func aReaderWriterAndCloserShareOneSocket() async throws {
        try await onHub("share") { hub in
            let (client, server) = try await tcpPair()
            defer { server.close() }
            let shared = HubBound(client)
            let reader = hub.spawn { await ending { try await shared.value.recv(10).count } }
            let writer = hub.spawn { await ending { try await shared.value.sendAll("ping"); return 4 } }
            #expect(try await writer.value == .returned(4))
            #expect(try await server.recv(10) == Array("ping".utf8))
            try await waitForPendingWaits(hub, atLeast: 1)
            let closer = hub.spawn { try shared.value.close() }
            try await closer.value
            #expect(try await reader.value == closedInAnotherTask)
        }
    }

    /// `accept` returns its socket as `sending`: a child task can own it
    /// without a `HubBound`, and children of a hub task run on that hub.
    @Test func anAcceptedSocketCanBeHandedToAChildTask() async throws {
        let reply = try await onHub("hand-off") { _ in
            let server = try loopbackServer()
            defer { server.close() }
            let client = try Socket()
            defer { client.close() }
            try await client.connect(to: try server.localAddress())
            return try await withThrowingTaskGroup(of: Void.self) { group in
                let (connection, _) = try await server.accept()
                group.addTask {
                    defer { connection.close() }
                    try await connection.sendAll(try await connection.recv(10))
                }
                try await client.sendAll("ping")
                try await group.waitForAll()
                return try await client.recv(10)
            }
        }
        #expect(reply == Array("ping".utf8))
    }

    @Test func cancellingABlockedRecvThrowsCancellationError() async throws {
        try await onHub("cancel-recv") { hub in
            let (client, server) = try await tcpPair()
            defer { client.close(); server.close() }
            let shared = HubBound(client)
            let reader = hub.spawn { await ending { try await shared.value.recv(10).count } }
            try await waitForPendingWaits(hub, atLeast: 1)
            reader.cancel()
            #expect(try await reader.value == .other("CancellationError()"))
            // The read side is free again.
            try await server.sendAll("z")
            #expect(try await client.recv(1) == Array("z".utf8))
        }
    }
}

/// Smuggles a value past the compiler, to test the runtime guard.
struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
