import ArgumentParser
import Sockets
#if canImport(Glibc)
import Glibc
#endif

/// `evergreen bench wait`: two tasks on one hub ping-pong one byte over two
/// pipes with `waitRead`.
struct BenchWait: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wait",
        abstract: "Ping-pong one byte between two tasks over two pipes with waitRead."
    )

    @Option(help: "Round trips to make.")
    var rounds: Int = 200_000

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    /// Which form of the wait API the ping-pong uses.
    enum API: String, ExpressibleByArgument, CaseIterable {
        /// `waitRead(IOWatcher)`: a persistent watcher per pipe, as a socket has.
        case watcher
        /// `waitRead(fd)`: a fresh watcher per call, as gevent's `wait_read(fd)`.
        case raw
    }

    @Option(help: "watcher: waitRead on a persistent IOWatcher per pipe (what sockets do); raw: waitRead(fd), a fresh watcher per call.")
    var api: API = .watcher

    func validate() throws {
        guard rounds > 0 else { throw ValidationError("--rounds must be positive (got \(rounds))") }
    }

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let hub = try global.makeHub(name: "bench")
        defer { hub.shutdown() }
        let ping = try Pipe(), pong = try Pipe()
        defer { ping.close(); pong.close() }
        let rounds = self.rounds
        let useWatchers = api == .watcher
        let clock = ContinuousClock()
        let started = clock.now
        try await hub.run {
            let pingWatcher = try IOWatcher(fileDescriptor: ping.readEnd, events: .read)
            let pongWatcher = try IOWatcher(fileDescriptor: pong.readEnd, events: .read)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    var byte: UInt8 = 0
                    for _ in 0..<rounds {
                        if useWatchers { try await waitRead(pingWatcher) } else { try await waitRead(ping.readEnd) }
                        guard read(ping.readEnd, &byte, 1) == 1 else { throw SystemError.lastError() }
                        guard write(pong.writeEnd, &byte, 1) == 1 else { throw SystemError.lastError() }
                    }
                }
                var byte: UInt8 = 1
                for _ in 0..<rounds {
                    guard write(ping.writeEnd, &byte, 1) == 1 else { throw SystemError.lastError() }
                    if useWatchers { try await waitRead(pongWatcher) } else { try await waitRead(pong.readEnd) }
                    guard read(pong.readEnd, &byte, 1) == 1 else { throw SystemError.lastError() }
                }
                try await group.waitForAll()
            }
        }
        let elapsed = started.duration(to: clock.now)
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = Double(rounds) / seconds
        if json {
            print(#"{"bench":"wait","impl":"evergreen","api":"\#(api.rawValue)","rounds":\#(rounds),"seconds":\#(seconds),"rate":\#(rate)}"#)
        } else {
            print("wait ping-pong (\(api.rawValue)): \(Int(rate)) round trips/s")
        }
    }
}

/// A non-blocking pipe.
struct Pipe: Sendable {
    let readEnd: Int32
    let writeEnd: Int32

    init() throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw SystemError.lastError() }
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        readEnd = fds[0]
        writeEnd = fds[1]
    }

    func close() {
        _ = Glibc.close(readEnd)
        _ = Glibc.close(writeEnd)
    }
}
