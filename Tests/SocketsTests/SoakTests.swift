import EvergreenTestSupport
import Sockets
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `evergreen soak --scale 0.01`: every phase of `make soak` at a hundredth
/// of its size (a few seconds), as a child process built with the tests.
/// And the same with a deliberate leak, which must fail: the soak's checks
/// can fail.
@Suite("Soak, quick", .enabled(if: inDNSWorld, "resolves names: run inside scripts/dnsworld"), .timeLimit(.minutes(2)))
struct QuickSoakTests {
    @Test func aQuickSoakPassesEveryPhase() async throws {
        // Under ThreadSanitizer or AddressSanitizer (built alike, with the tests),
        // resident memory also counts shadow memory and ASan's quarantine of
        // freed blocks, which grow as the run touches memory: only descriptors,
        // watchers and waits are checked then.
        let tolerance = underSanitizer ? ["--memory-tolerance", "100000"] : []
        let (status, output) = try await runEvergreen(["soak", "--scale", "0.01"] + tolerance)
        #expect(status == 0, "exit status \(status):\n\(output)")
        for phase in ["waits", "lookups/thread", "lookups/block", "lookups/ares", "connections"] {
            #expect(output.contains("verdict \(phase): PASS"), "\(phase):\n\(output)")
        }
    }

    @Test func aSoakThatLeaksFails() async throws {
        let (status, output) = try await runEvergreen(["soak", "--scale", "0.01", "--phases", "waits", "--leak-per-chunk", "2"])
        #expect(status != 0, "exit status 0:\n\(output)")
        #expect(output.contains("verdict waits: FAIL"), "\(output)")
        #expect(output.contains("descriptors"), "\(output)")
        #expect(output.contains("memory grew"), "\(output)")
    }
}

/// Whether this process (and so the `evergreen` built with it) runs under
/// ThreadSanitizer or AddressSanitizer.
let underSanitizer: Bool = {
    let runtimes: [String] = ["__tsan_init", "__asan_init"]
    return runtimes.contains { name in dlsym(nil, name) != nil }
}()

/// Runs the `evergreen` built beside this test bundle; returns its exit
/// status (128+N for signal N) and its standard output and error.
func runEvergreen(_ arguments: [String]) async throws -> (Int32, String) {
    var buffer = [CChar](repeating: 0, count: 4096)
    let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
    guard length > 0 else { throw SystemError.lastError() }
    let directory = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        .split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
    let tool = directory + "/evergreen"
    guard access(tool, X_OK) == 0 else { throw TestFailure("\(tool) is missing: build it with swift build --build-tests") }
    var template = Array("/tmp/evergreen-soak-XXXXXX".utf8CString)
    let fd = mkstemp(&template)
    guard fd >= 0 else { throw SystemError.lastError() }
    let outputPath = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    defer { unlink(outputPath) }

    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, fd, 1)
    posix_spawn_file_actions_adddup2(&actions, fd, 2)
    let argv = ([tool] + arguments).map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    var pid = pid_t()
    let rc = posix_spawn(&pid, tool, &actions, nil, argv, environ)
    close(fd)
    guard rc == 0 else { throw SystemError(code: rc) }
    // waitpid blocks: on a pool thread of its own, not a cooperative one.
    let pool = ThreadPool(threads: 1, name: "soak-wait")
    defer { pool.shutdown() }
    let child = pid
    let status = try await Hub.default.run {
        try await pool.run { childExitStatus(child) }
    }
    return (status, try readWholeFile(outputPath))
}
