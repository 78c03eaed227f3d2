import Sockets
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// 10,000 connections open at once on one hub, echoing.
///
/// Holding both ends of 10,000 connections in one process takes 20,000+
/// descriptors, more than a hard RLIMIT_NOFILE of 20,000 allows without
/// CAP_SYS_RESOURCE; and this process runs other tests beside this one, some
/// of which look for free descriptor numbers. So the two halves run in two
/// child processes (this test bundle again, with only one half selected):
/// the server (`EchoLoadServerChild`: listener, accept loop and echo tasks on
/// one hub) and the 10,000 clients (`EchoLoadClientChild`), each under
/// ~10,300 descriptors. They synchronise over a control socket: the clients
/// send nothing until the server has counted all 10,000 accepted connections
/// open at once. This test checks both exit statuses and the figures each
/// child prints.
@Suite("Load: 10,000 echoing connections", .timeLimit(.minutes(5)),
       .enabled(if: EchoLoad.reachableLimit >= EchoLoad.limitFor(connections: EchoLoad.connections),
                "RLIMIT_NOFILE cannot reach \(EchoLoad.limitFor(connections: EchoLoad.connections)): raise the hard limit (or run with CAP_SYS_RESOURCE)"))
struct LoadTests {
    @Test func tenThousandConcurrentConnectionsEchoOnOneHub() async throws {
        let clock = ContinuousClock()
        let start = clock.now
        let (server, client) = try await EchoLoad.runChildren(timeout: .seconds(240))
        let elapsed = start.duration(to: clock.now)
        #expect(server.status == 0, "server child exit status \(server.status):\n\(server.output.suffix(6000))")
        #expect(client.status == 0, "client child exit status \(client.status):\n\(client.output.suffix(6000))")
        let serverFields = try #require(EchoLoad.fields("LOAD-SERVER", in: server.output),
                                        "the server child never reported (was it skipped?):\n\(server.output.suffix(6000))")
        let clientFields = try #require(EchoLoad.fields("LOAD-CLIENT", in: client.output),
                                        "the client child never reported (was it skipped?):\n\(client.output.suffix(6000))")
        let serverReport = ReportedFields(fields: serverFields, child: "server")
        let clientReport = ReportedFields(fields: clientFields, child: "client")
        let connections = EchoLoad.connections

        // All at once: the server held every accepted connection and its
        // listener, the clients every connection, before any byte was sent.
        #expect(try serverReport["accepted"] == connections)
        #expect(try serverReport["peak-port-descriptors"] == connections + 1)
        #expect(try serverReport["received-at-peak"] == 0)
        #expect(try clientReport["connected"] == connections)
        #expect(try clientReport["peak-port-descriptors"] == connections)
        // Every client's messages came back byte for byte; nothing was lost.
        #expect(try clientReport["completed"] == connections)
        #expect(try clientReport["messages"] == connections * EchoLoad.messages)
        #expect(try clientReport["failures"] == 0)
        #expect(try serverReport["failures"] == 0)
        #expect(try serverReport["closed-by-client"] == connections)
        #expect(try serverReport["echoed-bytes"] == clientReport["sent-bytes"])
        // The server is back where it started: descriptors, waits, watchers.
        #expect(try serverReport["port-descriptors-after"] == 0)
        #expect(try serverReport["descriptors-after"] == serverReport["descriptors-before"])
        #expect(try serverReport["waits-after"] == serverReport["waits-before"])
        #expect(try serverReport["watchers-after"] == serverReport["watchers-before"])
        #expect(try serverReport["queued-jobs"] == 0)
        #expect(try clientReport["descriptors-after"] == clientReport["descriptors-before"])

        print("LOAD-RESULT connections=\(serverFields["accepted"] ?? "?") messages=\(clientFields["messages"] ?? "?") "
              + "bytes=\(clientFields["sent-bytes"] ?? "?") "
              + "server-peak-descriptors=\(serverFields["peak-descriptors"] ?? "?") "
              + "client-peak-descriptors=\(clientFields["peak-descriptors"] ?? "?") "
              + "server-descriptors=\(serverFields["descriptors-before"] ?? "?")->\(serverFields["descriptors-after"] ?? "?") "
              + "waits=\(serverFields["waits-after"] ?? "?") watchers=\(serverFields["watchers-after"] ?? "?") "
              + "connect=\(clientFields["connect-phase"] ?? "?") echo=\(clientFields["echo-phase"] ?? "?") total=\(elapsed)")
    }
}

/// The numeric fields of a child's report line; a missing or non-numeric
/// field throws (the test fails) rather than comparing as nil.
private struct ReportedFields {
    let fields: [String: String]
    let child: String

    subscript(_ key: String) -> Int {
        get throws {
            guard let text = fields[key] else { throw TestFailure("the \(child) child did not report \(key)") }
            guard let value = Int(text) else { throw TestFailure("the \(child) child reported \(key)=\(text)") }
            return value
        }
    }
}
