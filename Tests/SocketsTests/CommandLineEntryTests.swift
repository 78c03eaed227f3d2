import Sockets
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The CLI's entry point: `bench wait`, a synchronous command, runs its hub
/// on the main thread of a one-thread process; the asynchronous commands and
/// the errors of both kinds still work.
@Suite("evergreen entry point (child processes)", .timeLimit(.minutes(1)))
struct CommandLineEntryTests {
    static let evergreen = ChildProcess.evergreen

    /// One thread with `--hub main`; at least one more with `--hub thread`.
    @Test(.enabled(if: evergreen != nil, "the evergreen executable is built next to the tests"))
    func benchWaitRunsItsHubInTheProcessOnlyThread() async throws {
        try await onHub("cli-entry") { _ in
            var threads: [String: Int] = [:]
            for arguments in [["--hub", "main"], ["--hub", "main", "--api", "raw"], ["--hub", "thread"]] {
                let (status, text) = try await ChildProcess.run([Self.evergreen!, "bench", "wait", "--rounds", "2000", "--json"] + arguments)
                #expect(status == 0, "\(arguments): \(text)")
                #expect(text.contains("\"rounds\":2000,"), "\(arguments): \(text)")
                let count = text.split(separator: "\"threads\":").dropFirst().first?.prefix { $0.isNumber }
                threads[arguments.joined(separator: " ")] = count.flatMap { Int($0) }
            }
            #expect(threads["--hub main"] == 1 && threads["--hub main --api raw"] == 1, "\(threads)")
            // ThreadSanitizer starts a thread of its own once a second one exists.
            #expect((threads["--hub thread"] ?? 0) >= 2, "\(threads)")
        }
    }

    @Test(.enabled(if: evergreen != nil, "the evergreen executable is built next to the tests"))
    func bothKindsOfCommandReportErrorsAndExitCodes() async throws {
        try await onHub("cli-errors") { _ in
            let (syncStatus, syncText) = try await ChildProcess.run([Self.evergreen!, "bench", "wait", "--rounds", "0"])
            #expect(syncStatus == 64 && syncText.contains("--rounds must be positive (got 0)"), "\(syncText)")
            let (asyncStatus, asyncText) = try await ChildProcess.run([Self.evergreen!, "connect", "127.0.0.1", "70000"])
            #expect(asyncStatus == 64 && asyncText.contains("PORT must be 0-65535 (got 70000)"), "\(asyncText)")
            let (okStatus, okText) = try await ChildProcess.run([Self.evergreen!, "resolve", "--resolver", "block", "192.0.2.1"])
            #expect(okStatus == 0 && okText == "192.0.2.1  192.0.2.1\n", "\(okText)")
            // A failure inside an asynchronous command's run: exit status 1.
            let refusing = try RefusingPort()
            defer { refusing.close() }
            let (failedStatus, failedText) = try await ChildProcess.run([Self.evergreen!, "connect", "127.0.0.1", "\(refusing.port)"])
            #expect(failedStatus == 1 && failedText.contains("Connection refused"), "\(failedText)")
        }
    }
}
