import ArgumentParser
import Sockets
#if canImport(Glibc)
import Glibc
#endif

/// `evergreen demo echo`: an echo server and many concurrent client tasks in
/// one process, on one hub, then a summary.
struct DemoEcho: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo",
        abstract: "Run an echo server and N concurrent client tasks on one hub; print counts, bytes, time and errors.",
        discussion: "Exit status 1 when any client failed."
    )

    @Option(help: "Concurrent client tasks.")
    var clients: Int = 1000

    @Option(help: "Messages each client sends (and waits to get back).")
    var messages: Int = 10

    @Option(help: "Bytes per message.")
    var size: Int = 64

    func validate() throws {
        guard clients >= 1 else { throw ValidationError("--clients must be at least 1 (got \(clients))") }
        guard messages >= 1 else { throw ValidationError("--messages must be at least 1 (got \(messages))") }
        guard (1...1_048_576).contains(size) else { throw ValidationError("--size must be 1...1048576 (got \(size))") }
    }

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        raiseOpenFileLimit()
        let hub = try global.makeHub(name: "demo")
        defer { hub.shutdown() }
        let (clients, messages, size) = (self.clients, self.messages, self.size)
        let failed = try await hub.run { () async throws -> Bool in
            let server = try createServer(address: .inet(host: "127.0.0.1", port: 0), backlog: 4096)
            let address = try server.localAddress()
            print("echo server on \(address); \(clients) client tasks, \(messages) messages of \(size) bytes each")
            let sharedServer = HubBound(server)
            let serving = hub.spawn { try await serveEcho(on: sharedServer.value) }

            let clock = ContinuousClock()
            let start = clock.now
            let results = await withTaskGroup(of: ClientResult.self) { group in
                for _ in 0..<clients {
                    group.addTask { await runEchoClient(port: Int(address.port), messages: messages, size: size) }
                }
                var results: [ClientResult] = []
                for await result in group { results.append(result) }
                return results
            }
            let took = start.duration(to: clock.now)
            server.close()
            _ = try? await serving.value

            let connected = results.filter(\.connected).count
            let echoed = results.reduce(0) { $0 + $1.messages }
            let errors = results.compactMap(\.error)
            let seconds = Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18
            print("clients:    \(clients) tasks, \(connected) connected")
            print("messages:   \(echoed) echoed of \(clients * messages)")
            print("bytes:      \(echoed * size) each way")
            print("time:       \(String(format3(seconds))) s (\(Int(Double(echoed) / max(seconds, 1e-9))) round trips/s)")
            print("errors:     \(errors.count)")
            var seen: Set<String> = []
            for error in errors where seen.insert(error).inserted && seen.count <= 5 { print("  \(error)") }
            print("hub after:  \(try await hub.statistics().pendingWaits) tasks still waiting")
            return !errors.isEmpty
        }
        if failed { throw ExitCode(1) }
    }
}

/// What one client task did.
struct ClientResult: Sendable {
    var connected = false
    var messages = 0
    var error: String?
}

/// Connects, sends `messages` messages and checks each echo byte for byte.
func runEchoClient(port: Int, messages: Int, size: Int) async -> ClientResult {
    var result = ClientResult()
    do {
        let socket = try await createConnection(host: "127.0.0.1", port: port, timeout: .seconds(30))
        defer { socket.close() }
        result.connected = true
        let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        for _ in 0..<messages {
            try await socket.sendAll(payload)
            var received: [UInt8] = []
            while received.count < size {
                let chunk = try await socket.recv(size - received.count)
                if chunk.isEmpty { throw EchoMismatch(text: "server closed after \(received.count) of \(size) bytes") }
                received += chunk
            }
            guard received == payload else { throw EchoMismatch(text: "echo differs from what was sent") }
            result.messages += 1
        }
    } catch {
        result.error = "\(error)"
    }
    return result
}

struct EchoMismatch: Error, CustomStringConvertible {
    let text: String
    var description: String { text }
}

/// "0.123".
private func format3(_ value: Double) -> String {
    let thousandths = Int((value * 1000).rounded())
    let fraction = String(thousandths % 1000)
    return "\(thousandths / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
}
