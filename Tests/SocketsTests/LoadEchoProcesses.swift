import EvergreenTestSupport
import Sockets
#if canImport(Glibc)
import Glibc
#endif

/// One finished child of the echo load: its role, exit status (128+N after
/// signal N) and output (standard error joined).
struct EchoLoadChildRun: Sendable {
    let role: String
    let status: Int32
    let output: String
}

extension EchoLoad {
    /// How long a child may still run once the other has failed.
    static let failureGrace = Duration.seconds(5)

    /// Runs the server child and the client child, joined by a control
    /// socket, until both exit. Once one fails, the other is killed after
    /// `failureGrace`; past `timeout` both are killed.
    static func runChildren(timeout: Duration) async throws -> (server: EchoLoadChildRun, client: EchoLoadChildRun) {
        let roles = ["server", "client"]
        var children: [(pid: pid_t, outputPath: String)] = []
        defer { for child in children { unlink(child.outputPath) } }
        do {
            let (serverEnd, clientEnd) = try socketpair()
            // Ours closed once spawned: each child then sees the other's exit as end of stream.
            defer { serverEnd.close(); clientEnd.close() }
            for (role, end) in zip(roles, [serverEnd, clientEnd]) {
                children.append(try spawnChild(role: role, control: end.fileDescriptor))
            }
        } catch {
            for child in children { _ = kill(child.pid, SIGKILL) }
            for child in children { _ = childExitStatus(child.pid) }
            throw error
        }
        let pids = children.map(\.pid)
        let pool = ThreadPool(threads: pids.count, name: "load-children")
        defer { pool.shutdown() }
        // Not reaped until both have exited (only `reap` below reaps): the
        // pids stay theirs, so killing either is always safe.
        let killAll: @Sendable () -> Void = { for pid in pids { _ = kill(pid, SIGKILL) } }
        do {
            try await waitForBoth(pids, timeout: timeout, pool: pool, killAll: killAll)
        } catch {
            // Cancelled, say: no child may outlive the test.
            killAll()
            for pid in pids { _ = childExitStatus(pid) }
            throw error
        }
        let runs = children.enumerated().map { index, child in
            EchoLoadChildRun(role: roles[index], status: childExitStatus(child.pid), output: (try? readWholeFile(child.outputPath)) ?? "")
        }
        return (runs[0], runs[1])
    }

    /// Returns once both children have exited, killing them as `runChildren` says.
    private static func waitForBoth(_ pids: [pid_t], timeout: Duration, pool: ThreadPool,
                                    killAll: @escaping @Sendable () -> Void) async throws {
        try await Hub.default.run {
            try await withThrowingTaskGroup(of: Bool?.self) { group in
                for pid in pids {
                    group.addTask {
                        do {
                            return try await pool.run(timeout: timeout) { exitedCleanly(pid) }
                        } catch is TimeoutError {
                            killAll()
                            return try await pool.run { exitedCleanly(pid) }
                        }
                    }
                }
                var running = pids.count
                var graceStarted = false
                while running > 0, let exit = try await group.next() {
                    guard let clean = exit else { continue }
                    running -= 1
                    if !clean, !graceStarted {
                        // The other child, left waiting on its peer, may hang until its own
                        // timeouts; it gets a moment to report what it saw before it is killed.
                        graceStarted = true
                        group.addTask {
                            guard (try? await Task.sleep(for: failureGrace)) != nil else { return nil }
                            killAll()
                            return nil
                        }
                    }
                }
                group.cancelAll()
            }
        }
    }

    /// Starts this test bundle again with only the `role` half selected,
    /// `control` as its descriptor 3 and its output to a new temporary file.
    private static func spawnChild(role: String, control: Int32) throws -> (pid: pid_t, outputPath: String) {
        var template = Array("/tmp/evergreen-load-\(role)-XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else { throw SystemError.lastError() }
        // Kept out of children other tests spawn meanwhile (mkostemp is not imported).
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        defer { close(fd) }
        let outputPath = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fd, 1)
        posix_spawn_file_actions_adddup2(&actions, fd, 2)
        // dup2 clears close-on-exec, also when `control` is 3 already (glibc 2.29+).
        posix_spawn_file_actions_adddup2(&actions, control, controlDescriptor)
        // Descriptors other tests left inheritable must neither count against
        // the child's limit nor be held open by it.
        guard let closeFrom = addCloseFrom else {
            unlink(outputPath)
            throw TestFailure("no posix_spawn_file_actions_addclosefrom_np (glibc 2.34+)")
        }
        _ = closeFrom(&actions, controlDescriptor + 1)
        let childFilter = role == "server" ? "EchoLoadServerChild" : "EchoLoadClientChild"
        let arguments = ["/proc/self/exe", "--testing-library", "swift-testing", "--filter", childFilter]
        var environment = ["\(roleVariable)=\(role)"]
        var entry = environ
        while let variable = entry.pointee {
            let text = String(cString: variable)
            if !text.hasPrefix(roleVariable + "=") { environment.append(text) }
            entry += 1
        }
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid = pid_t()
        let rc = posix_spawn(&pid, "/proc/self/exe", &actions, nil, argv, envp)
        guard rc == 0 else {
            unlink(outputPath)
            throw SystemError(code: rc)
        }
        return (pid, outputPath)
    }

    /// Blocks until `pid` has exited, leaving it unreaped (so its pid cannot
    /// be reused while another task may still kill it); whether it exited 0.
    private static func exitedCleanly(_ pid: pid_t) -> Bool {
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) == -1 {
            guard errno == EINTR else { return false }
        }
        return info.si_code == CLD_EXITED && info._sifields._sigchld.si_status == 0
    }

    /// Reaps `pid` (blocking until it exits); its exit status, 128+N after signal N.
}

private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

/// glibc's `posix_spawn_file_actions_addclosefrom_np`, which Glibc does not import.
private let addCloseFrom: CloseFrom? = {
    guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addclosefrom_np") else { return nil }
    return unsafeBitCast(symbol, to: CloseFrom.self)
}()
