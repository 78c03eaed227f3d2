import ArgumentParser
import Sockets
#if canImport(Glibc)
import Glibc
#endif

/// `evergreen connect HOST PORT`: connects with Happy Eyeballs and reports
/// which address won and how each attempt went.
struct Connect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connect",
        abstract: "Connect with createConnection (Happy Eyeballs) and report every attempt.",
        discussion: "Exit status 1 when no attempt connects."
    )

    @Argument(help: "A host name or IP address.")
    var host: String

    @Argument(help: "The TCP port.")
    var port: Int

    @Option(help: "Seconds for the whole connect, lookups included.")
    var timeout: Double = 10

    @Option(help: "Milliseconds before the next attempt starts (RFC 8305: 250).")
    var attemptDelay: Int = 250

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("PORT must be 0-65535 (got \(port))") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive (got \(timeout))") }
        guard attemptDelay >= 0 else { throw ValidationError("--attempt-delay must not be negative") }
    }

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let hub = try global.makeHub(name: "connect")
        defer { hub.shutdown() }
        let connector = HappyEyeballsConnector(timeout: .milliseconds(Int64(timeout * 1000)),
                                               connectionAttemptDelay: .milliseconds(attemptDelay))
        let (host, port) = (self.host, self.port)
        let connected = try await hub.run { () async throws -> Bool in
            let clock = ContinuousClock()
            let start = clock.now
            do {
                let connection = try await connector.connect(host: host, port: port)
                defer { connection.socket.close() }
                let took = start.duration(to: clock.now)
                print("connected to \(connection.address) in \(format(took)) (resolver: \(hub.resolver.name))")
                report(connection.attempts)
                return true
            } catch let error as CreateConnectionError {
                let target = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
                print("failed: no attempt connected to \(target) in \(format(start.duration(to: clock.now)))")
                report(error.attempts)
                for lookup in error.failedLookups { print("  \(lookup)") }
                return false
            } catch {
                print("failed after \(format(start.duration(to: clock.now))): \(error)")
                return false
            }
        }
        if !connected { throw ExitCode(1) }
    }

    private func report(_ attempts: [ConnectionAttempt]) {
        for (index, attempt) in attempts.enumerated() {
            print("  attempt \(index + 1): \(attempt)")
        }
    }
}

/// "12.3 ms".
private func format(_ duration: Duration) -> String {
    let (seconds, attoseconds) = duration.components
    let ms = Double(seconds) * 1000 + Double(attoseconds) / 1e15
    return "\((ms * 10).rounded() / 10) ms"
}
