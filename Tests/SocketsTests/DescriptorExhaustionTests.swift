import Sockets
import Synchronization
import Testing
import EvergreenTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Running out of descriptors (issue 7), in child processes: RLIMIT_NOFILE
/// is process-wide, so the built `evergreen` CLI runs under `prlimit` and
/// this process only talks to it over loopback and reads its output.
@Suite("Descriptor exhaustion (child processes)",
       .enabled(if: ChildProcess.evergreen != nil, "no evergreen executable next to the test bundle: run `swift build --build-tests`"),
       .enabled(if: ChildProcess.prlimit != nil, "no prlimit (util-linux)"),
       .timeLimit(.minutes(2)))
struct DescriptorExhaustionTests {
    /// serve-echo under a small limit: clients beyond what it can hold wait
    /// in the backlog while accept fails with EMFILE; the loop says so once,
    /// retries every 100 ms without spinning, and serves them once
    /// descriptors free up.
    @Test func anAcceptLoopBacksOffAndServesPendingClientsOnceDescriptorsFreeUp() async throws {
        try await onHub("emfile-echo") { hub in
            let server = try ChildProcess(ChildProcess.limited(20, [ChildProcess.evergreen!, "serve-echo", "--port", "0"]))
            defer { server.kill() }
            let output = try server.output.makeReader()
            defer { output.close() }
            let ready = try await withTimeout(.seconds(20)) { try await output.readLine() } ?? "(nothing)"
            guard ready.hasPrefix("listening on 127.0.0.1:"), let port = UInt16(ready.split(separator: ":").last ?? "") else {
                Issue.record("serve-echo did not start: \(ready)")
                return
            }
            let address = try SocketAddress(numericHost: "127.0.0.1", port: port)

            // Every event (an echo, a line on standard error) arrives here, in order.
            let (events, sink) = AsyncStream<EchoEvent>.makeStream()
            var iterator = events.makeAsyncIterator()
            let errors = HubBound(try server.errors.makeReader(), hub: hub)
            let errorLines = hub.spawn {
                while let line = try await errors.value.readLine() { sink.yield(.line(line)) }
                sink.yield(.ended)  // the server died: nothing else will come
            }
            defer {
                errorLines.cancel()
                try? errors.value.close()
            }
            var clients: [Socket] = []
            defer { for client in clients { client.close() } }
            func connectClient() async throws {
                let client = try Socket()
                try await client.connect(to: address)
                try await client.sendAll("x")
                let index = clients.count
                clients.append(client)
                let shared = HubBound(client)
                _ = hub.spawn {
                    let echo = try? await shared.value.recv(1)
                    sink.yield(echo == Array("x".utf8) ? .echoed(index) : .lost(index))
                }
            }

            // One client at a time: each is either echoed or makes accept fail.
            var saturation: String?
            var served = 0
            while saturation == nil, clients.count < 64 {
                try await connectClient()
                switch await iterator.next() {
                case .echoed(let index)?: #expect(index == served); served += 1
                case .line(let line)?: saturation = line
                case let other: Issue.record("unexpected \(String(describing: other))"); return
                }
            }
            let saturatedAt = ContinuousClock.now
            guard let saturation else {
                Issue.record("serve-echo served \(served) clients and never ran out of descriptors")
                return
            }
            #expect(saturation == "accept: [Errno 24] Too many open files (EMFILE); retrying every 100 ms")
            #expect(served > 0)
            for _ in 0..<3 { try await connectClient() }  // more in the backlog

            // Saturated for a second: the server must sleep, not spin.
            let cpuBefore = try server.cpuTime()
            let wallBefore = ContinuousClock.now
            try await hub.sleep(for: .seconds(1))
            let cpu = try server.cpuTime() - cpuBefore
            let wall = wallBefore.duration(to: .now)
            #expect(cpu < wall * 0.2, "serve-echo used \(cpu) of CPU in \(wall) while saturated")

            // Free the server's descriptors: the pending clients get served.
            for client in clients[..<served] { client.close() }
            var pending = Set(served..<clients.count)
            var recovery: String?
            while !pending.isEmpty || recovery == nil {
                switch await iterator.next() {
                case .echoed(let index)?: #expect(pending.remove(index) != nil)
                case .line(let line)? where line.hasPrefix("accept: accepting again after "): recovery = line
                // The server may run out again while its side of the closed
                // clients is still open: a new episode, reported once more.
                case .line(let line)? where line == saturation: recovery = nil
                // One line per episode, not one per retry; anything else (a log line) is not the accept loop's.
                case .line(let line)?: #expect(!line.hasPrefix("accept:"), "a second report: \(line)")
                case let other: Issue.record("unexpected \(String(describing: other))"); return
                }
            }
            // Each retry follows a 100 ms sleep: a busy loop would count thousands.
            let attempts = Int(recovery?.split(separator: " ").dropLast(2).last ?? "") ?? -1
            let saturatedFor = saturatedAt.duration(to: .now)
            #expect(attempts >= 1 && Double(attempts) <= saturatedFor / .milliseconds(100) + 2,
                    "\(attempts) accept attempts in \(saturatedFor)")
            #expect(try await hub.statistics().pendingWaits == 1)  // the standard-error reader
            print("emfile-echo: \(served) served, saturated \(saturatedFor), \(attempts) attempts, cpu \(cpu) in \(wall)")
        }
    }

    /// A name lookup with every descriptor taken fails with a clear EMFILE
    /// error on every backend (glibc says "Name or service not known" and
    /// c-ares "Could not contact DNS servers" without the fix), never a
    /// crash or a hang; a few more descriptors and the same lookup works.
    @Test(.enabled(if: inDNSWorld, "resolves names: run inside scripts/dnsworld"), arguments: ["ares", "thread", "block"])
    func aLookupOutOfDescriptorsReportsEMFILE(backend: String) async throws {
        try await onHub("emfile-lookup") { _ in
            let base = try await ChildProcess.startupLimit()
            var outcomes: [(Int, String)] = []
            for limit in base...(base + 3) {
                let (status, text) = try await ChildProcess.run(ChildProcess.limited(limit, [
                    ChildProcess.evergreen!, "resolve", "--resolver", backend, "one.evergreen.test"]))
                outcomes.append((limit, text))
                let clear = text.contains("Too many open files") && status == 1
                let resolved = status == 0 && text == "one.evergreen.test  192.0.2.10\n"
                #expect(resolved || clear, "limit \(limit): \(text)")
            }
            #expect(outcomes.contains { $0.1 == "one.evergreen.test  error: Too many open files (errno 24)\n" },
                    "no run failed in the lookup itself: \(outcomes)")
            #expect(outcomes.last?.1 == "one.evergreen.test  192.0.2.10\n")
            print("emfile-lookup \(backend): " + outcomes.map { "\($0.0): \($0.1.split(separator: "\n").first ?? "")" }.joined(separator: "; "))
        }
    }

    /// One descriptor short of a hub's loop (epoll and eventfd), the CLI's
    /// `Hub.make` throws a clear EMFILE error naming the hub instead of
    /// libev aborting the process ("error creating signal/async pipe").
    @Test func aHubThatCannotGetItsDescriptorsIsAClearError() async throws {
        try await onHub("emfile-hub") { _ in
            let base = try await ChildProcess.startupLimit()
            let (status, text) = try await ChildProcess.run(ChildProcess.limited(base - 1, [
                ChildProcess.evergreen!, "resolve", "--resolver", "block", "192.0.2.1"]))
            #expect(status == 1, "limit \(base - 1): \(text)")
            #expect(text.contains("cannot start hub 'resolve': Too many open files"), "limit \(base - 1): \(text)")
        }
    }

    /// `evergreen connect` to an address, out of descriptors: the socket
    /// fails with EMFILE, reported per attempt; a few more and it connects.
    @Test func aConnectToAnAddressOutOfDescriptorsReportsEMFILE() async throws {
        try await connectOutOfDescriptors(host: "127.0.0.1")
    }

    /// The same by name (from the hosts file): the lookup or the socket says EMFILE.
    @Test(.enabled(if: inDNSWorld, "resolves names: run inside scripts/dnsworld"))
    func aConnectToANameOutOfDescriptorsReportsEMFILE() async throws {
        try await connectOutOfDescriptors(host: "localhost")
    }

    private func connectOutOfDescriptors(host: String) async throws {
        try await onHub("emfile-connect") { _ in
            let listener = try loopbackServer(backlog: 64)
            defer { listener.close() }
            let port = String(try listener.localAddress().port)
            let expected = "connected to 127.0.0.1:\(port) "
            let base = try await ChildProcess.startupLimit()
            var outcomes: [String] = []
            for limit in base...(base + 3) {
                let (status, text) = try await ChildProcess.run(ChildProcess.limited(limit, [
                    ChildProcess.evergreen!, "connect", "--timeout", "5", host, port]))
                outcomes.append(text)
                let clear = status == 1 && text.hasPrefix("failed") && text.contains("[Errno 24] Too many open files")
                let connected = status == 0 && text.hasPrefix(expected)
                #expect(connected || clear, "limit \(limit): \(text)")
            }
            #expect(outcomes.first?.contains("[Errno 24] Too many open files") == true, "\(outcomes)")
            #expect(outcomes.last?.hasPrefix("connected") == true, "\(outcomes)")
            print("emfile-connect \(host): limits from \(base): " + outcomes.map { String($0.prefix(60)) }.joined(separator: " | "))
        }
    }
}

/// What the echo test waits for: a client's echo (or its loss), a line on
/// the server's standard error, or the end of it.
private enum EchoEvent: Sendable {
    case echoed(Int)
    case lost(Int)
    case line(String)
    case ended
}

/// A child process with its standard output and error on sockets of the
/// current hub. Killed (if still running) and reaped by `kill()`.
final class ChildProcess {
    let pid: pid_t
    let output: Socket
    let errors: Socket
    private var reaped = false

    /// The built CLI, next to the test bundle (this executable).
    static let evergreen: String? = {
        guard let exe = try? readLink("/proc/self/exe") else { return nil }
        let path = String(exe[..<(exe.lastIndex(of: "/") ?? exe.startIndex)]) + "/evergreen"
        return access(path, X_OK) == 0 ? path : nil
    }()

    static let prlimit: String? = ["/usr/bin/prlimit", "/bin/prlimit"].first { access($0, X_OK) == 0 }

    /// `arguments` run with at most `limit` descriptors (and no core files).
    static func limited(_ limit: Int, _ arguments: [String]) -> [String] {
        [prlimit!, "--nofile=\(limit):\(limit)", "--core=0", "--"] + arguments
    }

    /// Starts `arguments[0]` with descriptors 0-2 only (stdin /dev/null),
    /// standard error joined to standard output when `mergeErrors`.
    init(_ arguments: [String], mergeErrors: Bool = false) throws {
        let (output, outputEnd) = try socketpair()
        let (errors, errorsEnd) = try socketpair()
        defer { outputEnd.close(); errorsEnd.close() }
        self.output = output
        self.errors = errors
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outputEnd.fileDescriptor, 1)
        posix_spawn_file_actions_adddup2(&actions, (mergeErrors ? outputEnd : errorsEnd).fileDescriptor, 2)
        // Whatever this process inherited without close-on-exec must not count against the limit.
        guard let closeFrom = ChildProcess.addCloseFrom else { throw TestFailure("no posix_spawn_file_actions_addclosefrom_np") }
        _ = closeFrom(&actions, 3)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var signals = sigset_t()
        sigemptyset(&signals)
        posix_spawnattr_setsigmask(&attributes, &signals)
        sigaddset(&signals, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &signals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        // A crash below the runtime's own needs should not spend seconds on a backtrace.
        var environment = ["SWIFT_BACKTRACE=enable=no"]
        var entry = environ
        while let variable = entry.pointee {
            let text = String(cString: variable)
            if !text.hasPrefix("SWIFT_BACKTRACE=") { environment.append(text) }
            entry += 1
        }
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid = pid_t()
        let rc = posix_spawn(&pid, arguments[0], &actions, &attributes, argv, envp)
        guard rc == 0 else { throw SystemError(code: rc) }
        self.pid = pid
    }

    deinit { kill() }

    /// SIGKILL and reap (unless reaped already), and close the output sockets.
    func kill() {
        if !reaped {
            _ = Glibc.kill(pid, SIGKILL)
            var status: Int32 = 0
            _ = waitpid(pid, &status, 0)
            reaped = true
        }
        output.close()
        errors.close()
    }

    /// Waits for the exit (on the hub's thread pool) and returns the exit
    /// status (`childExitStatus`: 128 + the signal for a child killed by one).
    func wait() async throws -> Int32 {
        let pid = self.pid
        let status = try await (Hub.current ?? Hub.default).threadPool.run { childExitStatus(pid) }
        reaped = true
        return status
    }

    /// User plus system CPU time so far, from /proc/PID/stat.
    func cpuTime() throws -> Duration {
        let text = try readFile("/proc/\(pid)/stat")
        // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
        let fields = text[text.index(after: text.lastIndex(of: ")")!)...].split(separator: " ")
        guard fields.count > 13, let user = Int64(fields[11]), let system = Int64(fields[12]) else {
            throw TestFailure("cannot parse /proc/\(pid)/stat: \(text)")
        }
        return .milliseconds((user + system) * 1000 / Int64(sysconf(Int32(_SC_CLK_TCK))))
    }

    /// Runs to the end; its output (standard error joined) and exit status
    /// (128+N after signal N). A hang is a test failure after 30 s.
    static func run(_ arguments: [String]) async throws -> (status: Int32, text: String) {
        let child = try ChildProcess(arguments, mergeErrors: true)
        defer { child.kill() }
        try child.output.setTimeout(.seconds(30))
        let reader = try child.output.makeReader()
        defer { reader.close() }
        let bytes = try await reader.readToEnd(maxBytes: 1 << 20)
        let status = try await child.wait()
        return (status, String(decoding: bytes, as: UTF8.self))
    }

    /// The fewest descriptors with which the CLI starts and exits cleanly
    /// without needing one more (a lookup of an address literal): below it,
    /// the Swift runtime and libev themselves abort.
    static func startupLimit() async throws -> Int {
        if let known = knownStartupLimit.withLock({ $0 }) { return known }
        for limit in 4...32 {
            let (status, _) = try await run(limited(limit, [evergreen!, "resolve", "--resolver", "block", "192.0.2.1"]))
            if status == 0 {
                knownStartupLimit.withLock { $0 = limit }
                return limit
            }
        }
        throw TestFailure("evergreen never started with up to 32 descriptors")
    }
    private static let knownStartupLimit = Mutex<Int?>(nil)

    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    /// glibc 2.34's `posix_spawn_file_actions_addclosefrom_np` (a GNU name Swift does not import).
    private static let addCloseFrom: CloseFrom? = {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: CloseFrom.self)
    }()
}

private func readLink(_ path: String) throws -> String {
    var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
    let count = readlink(path, &buffer, buffer.count - 1)
    guard count > 0 else { throw SystemError.lastError() }
    return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

private func readFile(_ path: String) throws -> String {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw SystemError.lastError() }
    defer { close(fd) }
    var bytes = [UInt8](repeating: 0, count: 4096)
    let count = read(fd, &bytes, bytes.count)
    guard count >= 0 else { throw SystemError.lastError() }
    return String(decoding: bytes[..<count], as: UTF8.self)
}
