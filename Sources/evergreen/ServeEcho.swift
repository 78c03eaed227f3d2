import ArgumentParser
import Sockets
#if canImport(Glibc)
import Glibc
#endif

/// `evergreen serve-echo`: a TCP echo server, one task per connection,
/// written as a user of the Sockets API would write it.
struct ServeEcho: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve-echo",
        abstract: "Serve TCP echo, one task per connection; prints 'listening on HOST:PORT' and runs until killed."
    )

    @Option(help: "The port to listen on (0: any free port).")
    var port: Int

    @Option(help: "The address (or name) to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "The listen backlog.")
    var backlog: Int = 4096

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0-65535 (got \(port))") }
        guard backlog >= 1 else { throw ValidationError("--backlog must be at least 1 (got \(backlog))") }
    }

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        raiseOpenFileLimit()
        let hub = try global.makeHub(name: "echo", threadPoolSize: 1)
        defer { hub.shutdown() }
        let (host, port, backlog) = (self.host, self.port, self.backlog)
        try await hub.run {
            let address = try await listenAddress(host: host, port: port)
            let server = try createServer(address: address, backlog: backlog)
            defer { server.close() }
            print("listening on \(try server.localAddress())")
            fflush(nil)  // the ready line must not wait in a pipe's buffer
            try await serveEcho(on: server)
        }
    }
}

/// Accepts connections forever, echoing each in its own task.
///
/// Out of descriptors (or memory), accept fails while connections wait in
/// the backlog: the loop then retries every 100 ms (never a busy
/// loop), says so once on standard error when it starts
/// ("accept: [Errno 24] Too many open files (EMFILE); retrying every 100 ms") and
/// once when a retry succeeds ("accept: accepting again after N failed attempts").
func serveEcho(on server: Socket) async throws {
    try await withThrowingDiscardingTaskGroup { group in
        var failedAttempts = 0
        while true {
            let connection: Socket
            do {
                (connection, _) = try await server.accept()
            } catch let error as SystemError where resourceErrors[error.code] != nil {
                // Back off instead of dying; one line per episode, not per retry.
                if failedAttempts == 0 {
                    printToStandardError("accept: \(error) (\(resourceErrors[error.code]!)); retrying every \(acceptBackoffMilliseconds) ms")
                }
                failedAttempts += 1
                try await Hub.current?.sleep(for: .milliseconds(acceptBackoffMilliseconds))
                continue
            }
            if failedAttempts > 0 {
                printToStandardError("accept: accepting again after \(failedAttempts) failed attempts")
                failedAttempts = 0
            }
            // One task per connection: echo until the peer closes.
            group.addTask {
                defer { connection.close() }
                do {
                    try connection.setOption(.noDelay, true)
                    while true {
                        let data = try await connection.recv(65536)
                        if data.isEmpty { return }
                        try await connection.sendAll(data)
                    }
                } catch {
                    // A reset or a broken pipe ends this connection only.
                }
            }
        }
    }
}

/// How long the accept loop waits before retrying after running out of descriptors.
let acceptBackoffMilliseconds = 100

/// The accept errors that mean "out of descriptors or memory, for now", by name.
private let resourceErrors: [Int32: String] = [EMFILE: "EMFILE", ENFILE: "ENFILE", ENOBUFS: "ENOBUFS", ENOMEM: "ENOMEM"]

/// A numeric host as given, or the first address the hub's resolver gives.
func listenAddress(host: String, port: Int) async throws -> SocketAddress {
    if SocketAddress.isNumericHost(host) { return try SocketAddress(numericHost: host, port: UInt16(port)) }
    let results = try await getaddrinfo(host, .number(port), type: .stream, flags: .passive)
    guard let first = results.first else { throw AddressInfoError(code: AddressInfoError.noData) }
    return first.address
}

/// Raises the soft open-file limit to the hard limit: a server with
/// thousands of connections needs a descriptor for each.
func raiseOpenFileLimit() {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
    limit.rlim_cur = limit.rlim_max
    _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
}

/// Writes a line to standard error.
func printToStandardError(_ text: String) {
    var line = text + "\n"
    line.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
}
