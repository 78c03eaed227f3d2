import EvergreenTestSupport
import Sockets
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The shape of the echo load and what its two child processes share.
///
/// The server child (listener, accept loop, one echo task per connection,
/// all on one hub) and the client child (10,000 clients) are separate
/// processes, so each needs ~10,000 descriptors and stays under a hard
/// RLIMIT_NOFILE of 20,000. They talk over a Unix stream socket, descriptor 3
/// in both, by lines:
///
///     server -> client   "port P"        the listener's port
///     server -> client   "accepted N"    every `acceptReportInterval` accepts, and at the last
///     server -> client   "all-open"      the server counted every connection open at once
enum EchoLoad {
    static let connections = 10_000
    static let messages = 3
    static let backlog = 4_096
    /// Connections connecting but not yet accepted, at most: under the
    /// accept queue (the backlog, capped by net.core.somaxconn), since a SYN
    /// beyond a full queue is dropped and only retried a second later.
    static let connectWindow: Int = {
        var somaxconn = backlog
        if let file = fopen("/proc/sys/net/core/somaxconn", "r") {
            var line = [CChar](repeating: 0, count: 32)
            if fgets(&line, Int32(line.count), file) != nil,
               let value = Int(String(decoding: line.prefix { $0 >= 48 && $0 <= 57 }.map { UInt8($0) }, as: UTF8.self)), value > 0 {
                somaxconn = value
            }
            fclose(file)
        }
        return max(2 * acceptReportInterval, min(backlog, somaxconn) * 3 / 4)
    }()
    /// How often the server reports its accept count. Well under the
    /// window, or the clients would wait for a report that never comes.
    static let acceptReportInterval = 128
    /// Descriptors kept free beside the connections and what was open before.
    static let spareDescriptors = 64
    /// Not EVERGREEN_*: those are configuration, and unknown ones are refused.
    static let roleVariable = "EVGTEST_ECHO_LOAD_ROLE"
    /// The control socket's descriptor number in both children.
    static let controlDescriptor: Int32 = 3
    /// Loopback addresses of their own (all of 127/8 is local): the 10,000
    /// client ports taken here never collide with a port another test
    /// probes for, or binds, on 127.0.0.1.
    static let serverHost = "127.0.0.2"
    static let clientHost = "127.0.0.3"
    /// The hang guard of every socket operation.
    static let operationTimeout = Duration.seconds(60)

    /// The role this process was started for ("server" or "client"), if any.
    static var role: String? { getenv(roleVariable).map { String(cString: $0) } }

    /// The limit each child needs: one end of every connection, the
    /// listener, and room for what the process holds anyway.
    static func limitFor(connections: Int) -> rlim_t { rlim_t(connections + 1 + 4 * spareDescriptors) }

    /// The highest RLIMIT_NOFILE this process may set: any value with
    /// CAP_SYS_RESOURCE, else the hard limit.
    static var reachableLimit: rlim_t {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        return hasCapability(24) ? max(limit.rlim_max, limitFor(connections: connections)) : limit.rlim_max
    }

    /// Whether capability `bit` (CAP_SYS_RESOURCE is 24) is in effect.
    static func hasCapability(_ bit: Int) -> Bool {
        guard let file = fopen("/proc/self/status", "r") else { return false }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            guard text.hasPrefix("CapEff:") else { continue }
            let hex = text.dropFirst("CapEff:".count).trimmingPrefix(while: { $0 == " " || $0 == "\t" })
            return UInt64(hex, radix: 16).map { $0 >> UInt64(bit) & 1 == 1 } ?? false
        }
        return false
    }

    /// Raises RLIMIT_NOFILE (soft, and hard when allowed) towards `wanted`;
    /// never lowers it. Returns the soft limit now in force. Children only:
    /// the limit is process-wide.
    static func raiseDescriptorLimit(to wanted: rlim_t) throws -> rlim_t {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { throw SystemError.lastError() }
        guard limit.rlim_cur < wanted else { return limit.rlim_cur }
        var raised = limit
        if hasCapability(24) { raised.rlim_max = max(limit.rlim_max, wanted) }
        raised.rlim_cur = min(wanted, raised.rlim_max)
        guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 else { throw SystemError.lastError() }
        return raised.rlim_cur
    }

    /// Lowers this child's CPU priority (nice 10): on a machine of few cores
    /// the load would otherwise starve the tests running beside it in the
    /// parent, whose hang guards are seconds. Children only.
    static func yieldCPUToOtherTests() {
        _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
    }

    /// The bytes of message `message` of client `client`: 8 to 2,000 bytes,
    /// starting with both numbers, so crossed or reordered echoes show.
    static func payload(client: Int, message: Int) -> [UInt8] {
        let size = 8 + (client &* 31 &+ message &* 977) % 1_993
        var bytes = pattern(size, seed: UInt8(truncatingIfNeeded: client &+ message))
        withUnsafeBytes(of: UInt32(client).bigEndian) { bytes.replaceSubrange(0..<4, with: $0) }
        withUnsafeBytes(of: UInt32(message).bigEndian) { bytes.replaceSubrange(4..<8, with: $0) }
        return bytes
    }

    /// The control socket this child inherited as descriptor 3, on the current hub.
    static func controlSocket() throws -> Socket {
        let socket = try Socket(adopting: controlDescriptor)
        // Longer than any gap between two control lines, short of the parent's guard.
        try socket.setTimeout(operationTimeout)
        return socket
    }

    /// Sends one control line.
    static func send(_ line: String, on control: Socket) async throws {
        try await control.sendAll(Array((line + "\n").utf8))
    }

    /// The `key=value` fields of the output line starting with `tag` (e.g.
    /// "LOAD-SERVER"), or nil if there is none.
    static func fields(_ tag: String, in output: String) -> [String: String]? {
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix(tag + " ") }) else { return nil }
        var fields: [String: String] = [:]
        for field in line.split(separator: " ").dropFirst() {
            guard let equals = field.firstIndex(of: "=") else { continue }
            fields[String(field[..<equals])] = String(field[field.index(after: equals)...])
        }
        return fields
    }
}

/// Counts shared by the tasks of one child, behind a lock.
final class LoadCounts<Counts: Sendable>: Sendable {
    private let counts: Mutex<Counts>

    init(_ initial: Counts) { counts = Mutex(initial) }

    @discardableResult
    func update<T>(_ body: (inout Counts) -> T) -> T { counts.withLock { body(&$0) } }
}


/// Descriptors of this process that are TCP sockets with `port` at either
/// end (found by inode in /proc/net/tcp and tcp6).
func socketDescriptors(port: UInt16) -> Int {
    let hexPort = String(port, radix: 16, uppercase: true)
    let suffix = ":" + String(repeating: "0", count: 4 - hexPort.count) + hexPort
    var inodes = Set<String>()
    for table in ["/proc/self/net/tcp", "/proc/self/net/tcp6"] {
        guard let file = fopen(table, "r") else { continue }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 512)
        while fgets(&line, Int32(line.count), file) != nil {
            let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            // sl local remote st tx:rx tr:when retrnsmt uid timeout inode ...
            let fields = text.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 9, fields[1].hasSuffix(suffix) || fields[2].hasSuffix(suffix), fields[9] != "0" else { continue }
            inodes.insert(String(fields[9]))
        }
    }
    return DescriptorCensus.take().targets.values.filter { target in
        target.hasPrefix("socket:[") && inodes.contains(String(target.dropFirst("socket:[".count).dropLast()))
    }.count
}
