import Sockets
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The work of each soak phase, one chunk at a time. Each chunk runs on the
/// hub and returns only when all of its work has finished, so the sample
/// taken after it sees a quiet hub. A chunk returns its failures.
enum SoakWorkloads {
    /// Failures of one chunk: how many, and the first one's message.
    struct Failures: Sendable {
        var count = 0
        var first: String?

        mutating func add(_ error: any Error) {
            count += 1
            if first == nil { first = errorText(error) }
        }

        mutating func add(_ other: Failures) {
            count += other.count
            if first == nil { first = other.first }
        }
    }

    // MARK: Waits

    /// The descriptors and watcher the wait round trips use, kept for the
    /// whole phase so the samples see them in the baseline.
    struct WaitRig: Sendable {
        let ping: Pipe
        let pong: Pipe
        /// Never written: its waits always time out.
        let quiet: Pipe
        let pingWatcher: IOWatcher

        init(hub: Hub) throws {
            ping = try Pipe()
            pong = try Pipe()
            quiet = try Pipe()
            pingWatcher = try IOWatcher(fileDescriptor: ping.readEnd, events: .read, hub: hub)
        }

        func close() {
            ping.close()
            pong.close()
            quiet.close()
        }
    }

    /// `count` round trips of one byte between two tasks: one waits with a
    /// fresh watcher per call and a timeout (a timer armed and stopped each
    /// time), the other on a persistent `IOWatcher`; every 100th round also
    /// times out on a quiet pipe. Runs on the hub.
    static func waitRoundTrips(_ count: Int, rig: WaitRig) async throws -> Failures {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                var byte: UInt8 = 0
                for _ in 0..<count {
                    try await rig.pingWatcher.wait(timeout: .seconds(30))
                    guard read(rig.ping.readEnd, &byte, 1) == 1 else { throw SystemError.lastError() }
                    guard write(rig.pong.writeEnd, &byte, 1) == 1 else { throw SystemError.lastError() }
                }
            }
            var byte: UInt8 = 1
            for round in 0..<count {
                guard write(rig.ping.writeEnd, &byte, 1) == 1 else { throw SystemError.lastError() }
                try await waitRead(rig.pong.readEnd, timeout: .seconds(30))
                guard read(rig.pong.readEnd, &byte, 1) == 1 else { throw SystemError.lastError() }
                if round % 100 == 99 {
                    let events = try await waitRead(rig.quiet.readEnd, timeout: .zero, onTimeout: .returnEmpty)
                    guard events.isEmpty else { throw SystemError(code: EIO, message: "a quiet pipe was readable") }
                }
            }
            try await group.waitForAll()
            return Failures()
        }
    }

    // MARK: Lookups

    /// `count` lookups of `names` (from `start`, wrapping around), with
    /// `concurrency` tasks on the hub, as `bench resolve` does them:
    /// `getaddrinfo(name, nil, AF_INET, SOCK_STREAM)`; an answer without an
    /// address is a failure. Runs on the hub.
    static func lookups(_ count: Int, from start: Int, names: [String], resolver: any Resolver,
                        concurrency: Int) async throws -> Failures {
        let cursor = SoakCursor()
        return try await withThrowingTaskGroup(of: Failures.self) { group in
            for _ in 0..<max(1, min(concurrency, count)) {
                group.addTask {
                    var failures = Failures()
                    while true {
                        let index = cursor.take()
                        guard index < count else { break }
                        let name = names[(start + index) % names.count]
                        do {
                            let results = try await resolver.getaddrinfo(host: name, port: nil, family: .inet, type: .stream,
                                                                         proto: .any, flags: [])
                            if results.isEmpty { failures.add(SoakFailure("no address for \(name)")) }
                        } catch is CancellationError {
                            throw CancellationError()
                        } catch {
                            failures.add(SoakFailure("\(name): \(errorText(error))"))
                        }
                    }
                    return failures
                }
            }
            var total = Failures()
            for try await failures in group { total.add(failures) }
            return total
        }
    }

    // MARK: Connections

    /// `count` TCP connections to `listener` (on the same hub), opened and
    /// closed by `concurrency` client tasks: the server accepts and closes
    /// at once, the client reads the end of file and closes. Runs on the hub.
    static func connections(_ count: Int, listener: HubBound<Socket>, address: SocketAddress,
                            concurrency: Int) async throws -> Failures {
        let cursor = SoakCursor()
        return try await withThrowingTaskGroup(of: Failures.self) { group in
            // Ends by cancellation once every client is done: a client whose
            // connect failed leaves no connection to accept.
            group.addTask {
                let server = try listener.value
                while true {
                    do {
                        let (connection, _) = try await server.accept()
                        connection.close()
                    } catch is CancellationError {
                        return Failures()
                    }
                }
            }
            let clients = max(1, min(concurrency, count))
            var clientsLeft = clients
            for _ in 0..<clients {
                group.addTask {
                    var failures = Failures()
                    while cursor.take() < count {
                        do {
                            try await connectOnce(to: address)
                        } catch is CancellationError {
                            throw CancellationError()
                        } catch {
                            failures.add(error)
                        }
                    }
                    return failures
                }
            }
            var total = Failures()
            while clientsLeft > 0, let failures = try await group.next() {
                total.add(failures)
                clientsLeft -= 1
            }
            group.cancelAll()
            for try await failures in group { total.add(failures) }
            return total
        }
    }

    /// One client connection: connect, read the server's end of file, close.
    private static func connectOnce(to address: SocketAddress) async throws {
        let socket = try Socket(family: address.family, type: .stream)
        defer { socket.close() }
        try socket.setTimeout(.seconds(10))
        try await socket.connect(to: address)
        let rest = try await socket.recv(16)
        guard rest.isEmpty else { throw SoakFailure("the server sent \(rest.count) bytes instead of closing") }
    }
}

/// A soak unit that went wrong in a way no library error describes.
struct SoakFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Hands out work indexes to the tasks of a chunk.
final class SoakCursor: Sendable {
    private let next = Atomic<Int>(0)
    /// The next index (past the end once all are taken).
    func take() -> Int { next.add(1, ordering: .relaxed).oldValue }
}
