import EvergreenTestSupport
import Sockets
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The server half of the load: one hub holding 10,000 accepted connections
/// at once and echoing on all of them. Enabled only in the child process
/// `LoadTests` starts; it reports on a `LOAD-SERVER` line that test parses.
@Suite("Load: echo server child process", .timeLimit(.minutes(4)),
       .enabled(if: EchoLoad.role == "server", "runs only in the server child process that LoadTests starts"))
struct EchoLoadServerChild {
    @Test func holdsTenThousandConnectionsAtOnceAndEchoesThem() async throws {
        EchoLoad.yieldCPUToOtherTests()
        let wanted = EchoLoad.limitFor(connections: EchoLoad.connections)
        let limit = try EchoLoad.raiseDescriptorLimit(to: wanted)
        try #require(limit >= wanted, "RLIMIT_NOFILE \(limit) is under the \(wanted) the server needs")
        let hub = Hub(name: "load-echo-server", threadPoolSize: 1)
        defer { hub.shutdown() }
        let baseline = try await hub.statistics()
        let report = try await hub.run {
            let control = try EchoLoad.controlSocket()
            defer { control.close() }
            return try await EchoServer.run(control: control)
        }
        let after = try await hub.statistics()
        let connections = EchoLoad.connections

        #expect(report.failures.isEmpty, "\(report.failures.count) failures, e.g. \(report.failures.prefix(5))")
        #expect(report.accepted == connections)
        // Every connection open at the same moment, before any byte came in.
        #expect(report.portDescriptorsAtPeak == connections + 1, "the accepted connections and the listener")
        #expect(report.receivedBytesAtPeak == 0)
        #expect(report.closedByClient == connections, "echo tasks that saw the end of stream")
        #expect(report.portDescriptorsAfter == 0)
        #expect(report.descriptorsAfter == report.descriptorsBefore,
                "descriptors: \(report.descriptorsBefore) before, \(report.descriptorsAfter) after")
        #expect(after.pendingWaits == baseline.pendingWaits)
        #expect(after.activeWatchers == baseline.activeWatchers)
        #expect(after.queuedJobs == 0)
        print("LOAD-SERVER accepted=\(report.accepted) closed-by-client=\(report.closedByClient) "
              + "echoed-bytes=\(report.echoedBytes) failures=\(report.failures.count) "
              + "peak-port-descriptors=\(report.portDescriptorsAtPeak) peak-descriptors=\(report.descriptorsAtPeak) "
              + "received-at-peak=\(report.receivedBytesAtPeak) "
              + "descriptors-before=\(report.descriptorsBefore) descriptors-after=\(report.descriptorsAfter) "
              + "port-descriptors-after=\(report.portDescriptorsAfter) "
              + "waits-before=\(baseline.pendingWaits) waits-after=\(after.pendingWaits) "
              + "watchers-before=\(baseline.activeWatchers) watchers-after=\(after.activeWatchers) "
              + "queued-jobs=\(after.queuedJobs) accept-phase=\(report.acceptPhase) echo-phase=\(report.echoPhase) "
              + "limit=\(limit)")
        for failure in report.failures.prefix(20) { print("LOAD-SERVER-FAILURE \(failure)") }
    }
}

/// What the server half found.
struct EchoServerReport: Sendable {
    var accepted = 0
    var closedByClient = 0
    var echoedBytes = 0
    var failures: [String] = []
    var receivedBytes = 0
    var receivedBytesAtPeak = 0
    var portDescriptorsAtPeak = 0
    var descriptorsAtPeak = 0
    var descriptorsBefore = 0
    var descriptorsAfter = 0
    var portDescriptorsAfter = 0
    var acceptPhase: Duration = .zero
    var echoPhase: Duration = .zero
}

enum EchoServer {
    /// Listens, tells the client child the port, accepts every connection
    /// (reporting the count so the clients keep within the accept queue),
    /// says "all-open" once all are held at once, and echoes until each
    /// client closes. Runs on the current hub.
    static func run(control: Socket) async throws -> EchoServerReport {
        let clock = ContinuousClock()
        let start = clock.now
        let descriptorsBefore = DescriptorCensus.take().count
        let server = try createServer(address: .inet(host: EchoLoad.serverHost, port: 0), backlog: EchoLoad.backlog)
        // Open to the end, so that it is counted with the connections at their peak.
        defer { server.close() }
        try server.setTimeout(EchoLoad.operationTimeout)
        let port = try server.localAddress().port
        try await EchoLoad.send("port \(port)", on: control)
        let state = LoadCounts(EchoServerReport())
        var allOpen = start
        try await withThrowingDiscardingTaskGroup { group in
            for count in 1...EchoLoad.connections {
                let (connection, _) = try await server.accept()
                state.update { $0.accepted += 1 }
                group.addTask { await echo(connection, state) }
                if count % EchoLoad.acceptReportInterval == 0 || count == EchoLoad.connections {
                    try await EchoLoad.send("accepted \(count)", on: control)
                }
            }
            let portDescriptors = socketDescriptors(port: port)
            let descriptors = DescriptorCensus.take().count
            state.update {
                $0.portDescriptorsAtPeak = portDescriptors
                $0.descriptorsAtPeak = descriptors
                $0.receivedBytesAtPeak = $0.receivedBytes
            }
            allOpen = clock.now
            try await EchoLoad.send("all-open", on: control)
        }
        let done = clock.now
        server.close()
        var report = state.update { $0 }
        report.acceptPhase = start.duration(to: allOpen)
        report.echoPhase = allOpen.duration(to: done)
        report.descriptorsBefore = descriptorsBefore
        report.portDescriptorsAfter = socketDescriptors(port: port)
        // Closes are immediate; the wait only tolerates a straggling task.
        var descriptorsAfter = DescriptorCensus.take().count
        _ = await poll {
            descriptorsAfter = DescriptorCensus.take().count
            return descriptorsAfter == descriptorsBefore
        }
        report.descriptorsAfter = descriptorsAfter
        return report
    }

    /// One server task: echoes until the client closes.
    private static func echo(_ connection: Socket, _ state: LoadCounts<EchoServerReport>) async {
        defer { connection.close() }
        do {
            try connection.setTimeout(EchoLoad.operationTimeout)
            while true {
                let data = try await connection.recv(65536)
                if data.isEmpty {
                    state.update { $0.closedByClient += 1 }
                    return
                }
                state.update { $0.receivedBytes += data.count }
                try await connection.sendAll(data)
                state.update { $0.echoedBytes += data.count }
            }
        } catch {
            state.update { $0.failures.append("server side: \(error)") }
        }
    }
}
