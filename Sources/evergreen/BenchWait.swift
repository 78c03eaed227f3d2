import ArgumentParser
import Sockets
#if canImport(Glibc)
import Glibc
#endif

/// `evergreen bench wait`: two tasks on one hub ping-pong one byte over two
/// pipes with `waitRead`.
///
/// A synchronous command, so that the process's entry point runs it on the
/// main thread before any other thread exists: with `--hub main` the hub's
/// loop runs there (`Hub.withCurrentThreadAsHub`) and the process has one
/// thread, as gevent's does; with `--hub thread` the hub has its own thread
/// and the main thread waits for it.
struct BenchWait: ParsableCommand {
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

    /// Where the hub's loop runs.
    enum HubThread: String, ExpressibleByArgument, CaseIterable {
        /// On the main thread, the process's only one (`Hub.withCurrentThreadAsHub`).
        case main
        /// On a thread of its own (`Hub()`), the main thread waiting.
        case thread
    }

    @Option(help: "main: the hub's loop runs on the main thread, the process's only one (as gevent's hub does); thread: the hub has its own thread and the main thread waits.")
    var hub: HubThread = .main

    func validate() throws {
        guard rounds > 0 else { throw ValidationError("--rounds must be positive (got \(rounds))") }
    }

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let ping = try Pipe(), pong = try Pipe()
        defer { ping.close(); pong.close() }
        let (rounds, useWatchers) = (self.rounds, api == .watcher)
        let (seconds, threads): (Double, Int)
        switch hub {
        case .main:
            (seconds, threads) = try Hub.withCurrentThreadAsHub(name: "bench", threadPoolSize: 1) { _ in
                try await Self.pingPong(ping, pong, rounds: rounds, useWatchers: useWatchers)
            }
        case .thread:
            let benchHub = try global.makeHub(name: "bench")
            defer { benchHub.shutdown() }
            // The main thread runs a hub of its own too, idle in epoll_wait
            // until the bench hub's result comes back to it.
            (seconds, threads) = try Hub.withCurrentThreadAsHub(name: "main", threadPoolSize: 1) { _ in
                try await benchHub.run {
                    try await Self.pingPong(ping, pong, rounds: rounds, useWatchers: useWatchers)
                }
            }
        }
        let rate = Double(rounds) / seconds
        if json {
            print(#"{"bench":"wait","impl":"evergreen","api":"\#(api.rawValue)","hub":"\#(hub.rawValue)","threads":\#(threads),"rounds":\#(rounds),"seconds":\#(seconds),"rate":\#(rate)}"#)
        } else {
            print("wait ping-pong (\(api.rawValue), hub on \(hub == .main ? "the main thread" : "its own thread")): \(Int(rate)) round trips/s")
        }
    }

    /// The ping-pong, on the current hub; returns the seconds it took and
    /// the threads the process had meanwhile.
    static func pingPong(_ ping: Pipe, _ pong: Pipe, rounds: Int, useWatchers: Bool) async throws -> (Double, Int) {
        let clock = ContinuousClock()
        let started = clock.now
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
        let elapsed = started.duration(to: clock.now)
        return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, threadCount())
    }
}

/// The process's threads (entries of /proc/self/task): 1 for `--hub main`.
private func threadCount() -> Int { directoryEntryCount("/proc/self/task") ?? 0 }

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
