import EvergreenTestSupport
import Sockets
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The client half of the load: 10,000 clients that connect, wait until the
/// server holds all of them at once, then each send messages and check their
/// echoes byte for byte. Enabled only in the child process `LoadTests`
/// starts; it reports on a `LOAD-CLIENT` line that test parses.
@Suite("Load: echo client child process", .timeLimit(.minutes(4)),
       .enabled(if: EchoLoad.role == "client", "runs only in the client child process that LoadTests starts"))
struct EchoLoadClientChild {
    @Test func tenThousandClientsOpenAtOnceAllEchoBackByteForByte() async throws {
        EchoLoad.yieldCPUToOtherTests()
        let wanted = EchoLoad.limitFor(connections: EchoLoad.connections)
        let limit = try EchoLoad.raiseDescriptorLimit(to: wanted)
        try #require(limit >= wanted, "RLIMIT_NOFILE \(limit) is under the \(wanted) the clients need")
        let hub = Hub(name: "load-echo-clients", threadPoolSize: 1)
        defer { hub.shutdown() }
        let report = try await hub.run {
            let control = try EchoLoad.controlSocket()
            defer { control.close() }
            return try await EchoClients.run(control: control)
        }
        let connections = EchoLoad.connections

        #expect(report.failures.isEmpty, "\(report.failures.count) failures, e.g. \(report.failures.prefix(5))")
        #expect(report.connected == connections)
        #expect(report.portDescriptorsAtPeak == connections, "every client connected at once")
        #expect(report.completed == connections)
        #expect(report.descriptorsAfter == report.descriptorsBefore,
                "descriptors: \(report.descriptorsBefore) before, \(report.descriptorsAfter) after")
        print("LOAD-CLIENT connected=\(report.connected) completed=\(report.completed) "
              + "messages=\(report.completed * EchoLoad.messages) sent-bytes=\(report.sentBytes) "
              + "failures=\(report.failures.count) peak-port-descriptors=\(report.portDescriptorsAtPeak) "
              + "peak-descriptors=\(report.descriptorsAtPeak) "
              + "descriptors-before=\(report.descriptorsBefore) descriptors-after=\(report.descriptorsAfter) "
              + "connect-phase=\(report.connectPhase) echo-phase=\(report.echoPhase)")
        for failure in report.failures.prefix(20) { print("LOAD-CLIENT-FAILURE \(failure)") }
    }
}

/// What the client half found.
struct EchoClientReport: Sendable {
    var connected = 0
    var connectFailures = 0
    var completed = 0
    var sentBytes = 0
    var failures: [String] = []
    var portDescriptorsAtPeak = 0
    var descriptorsAtPeak = 0
    var descriptorsBefore = 0
    var descriptorsAfter = 0
    var connectPhase: Duration = .zero
    var echoPhase: Duration = .zero
    /// Set before `go` opens when the run is abandoned: clients then close
    /// without sending.
    var aborted = false
}

enum EchoClients {
    /// The report, and the gates: `settled` opens when every connect has
    /// returned, `go` when the server holds every connection at once.
    private final class State: Sendable {
        let counts = LoadCounts(EchoClientReport())
        let settled = Event()
        let go = Event()
    }

    /// Runs the clients against the server child on the other end of `control`.
    static func run(control: Socket) async throws -> EchoClientReport {
        let clock = ContinuousClock()
        let descriptorsBefore = DescriptorCensus.take().count
        let reader = try control.makeReader(maxLineLength: 256)
        defer { reader.close() }
        let first = try await nextLine(reader)
        guard first.hasPrefix("port "), let port = UInt16(first.dropFirst("port ".count)) else {
            throw TestFailure("expected the server's port, got \(first)")
        }
        let address = SocketAddress.inet(host: EchoLoad.serverHost, port: port)
        let state = State()
        let start = clock.now
        var opened = start
        try await withThrowingDiscardingTaskGroup { clients in
            do {
                var accepted = 0
                for client in 0..<EchoLoad.connections {
                    while client - accepted >= EchoLoad.connectWindow {
                        accepted = try await nextAccepted(reader)
                    }
                    clients.addTask { await runClient(client, address, state) }
                }
                await state.settled.wait()
                let failures = state.counts.update { $0.connectFailures }
                guard failures == 0 else { throw TestFailure("\(failures) connects failed") }
                // Connected here is not yet accepted there: the server says when it holds them all.
                while try await nextLine(reader) != "all-open" {}
                let portDescriptors = socketDescriptors(port: port)
                let descriptors = DescriptorCensus.take().count
                state.counts.update {
                    $0.portDescriptorsAtPeak = portDescriptors
                    $0.descriptorsAtPeak = descriptors
                }
                opened = clock.now
                state.go.fire()
            } catch {
                // Clients waiting at the gate must not hang the group.
                state.counts.update { $0.aborted = true }
                state.go.fire()
                throw error
            }
        }
        let done = clock.now
        var report = state.counts.update { $0 }
        report.connectPhase = start.duration(to: opened)
        report.echoPhase = opened.duration(to: done)
        report.descriptorsBefore = descriptorsBefore
        report.descriptorsAfter = DescriptorCensus.take().count
        return report
    }

    /// The next control line; the server going away is a failure.
    private static func nextLine(_ reader: SocketReader) async throws -> String {
        guard let line = try await reader.readLine() else { throw TestFailure("the server child closed the control socket") }
        return line
    }

    /// The server's next accept count ("accepted N").
    private static func nextAccepted(_ reader: SocketReader) async throws -> Int {
        let line = try await nextLine(reader)
        guard line.hasPrefix("accepted "), let count = Int(line.dropFirst("accepted ".count)) else {
            throw TestFailure("expected an accept count, got \(line)")
        }
        return count
    }

    private static func runClient(_ client: Int, _ address: SocketAddress, _ state: State) async {
        let socket: Socket
        do {
            socket = try Socket(family: .inet, type: .stream)
            try socket.setTimeout(EchoLoad.operationTimeout)
            try socket.bind(to: .inet(host: EchoLoad.clientHost, port: 0))
            try await socket.connect(to: address)
        } catch {
            settle(state) {
                $0.connectFailures += 1
                $0.failures.append("client \(client) connect: \(error)")
            }
            return
        }
        defer { socket.close() }
        settle(state) { $0.connected += 1 }
        await state.go.wait()
        guard !state.counts.update({ $0.aborted }) else { return }
        var sent = 0
        do {
            for message in 0..<EchoLoad.messages {
                let bytes = EchoLoad.payload(client: client, message: message)
                try await socket.sendAll(bytes)
                sent += bytes.count
                var echoed: [UInt8] = []
                while echoed.count < bytes.count {
                    let chunk = try await socket.recv(bytes.count - echoed.count)
                    guard !chunk.isEmpty else { throw TestFailure("end of stream after \(echoed.count) bytes") }
                    echoed += chunk
                }
                guard echoed == bytes else { throw TestFailure("message \(message): the echo differs") }
            }
            state.counts.update { $0.completed += 1 }
        } catch {
            state.counts.update { $0.failures.append("client \(client): \(error)") }
        }
        state.counts.update { [sent] in $0.sentBytes += sent }
    }

    /// Records a connect's outcome; the last one opens `settled`.
    private static func settle(_ state: State, _ record: (inout EchoClientReport) -> Void) {
        let last = state.counts.update { counts -> Bool in
            record(&counts)
            return counts.connected + counts.connectFailures == EchoLoad.connections
        }
        if last { state.settled.fire() }
    }
}
