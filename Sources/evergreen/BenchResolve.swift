import ArgumentParser
import Sockets
import Synchronization

/// `evergreen bench resolve`: every name of a file once, with C lookups in
/// flight on one hub, against gevent's resolver of the same kind
/// (Benchmarks/gevent/resolve.py).
struct BenchResolve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolve",
        abstract: "Resolve each name of a file once (getaddrinfo(name, nil, AF_INET, SOCK_STREAM)) with C lookups in flight.",
        discussion: """
            Runs only inside the DNS test world (scripts/dnsworld run -- ...): the names would
            otherwise go to the machine's real DNS servers.
            """
    )

    @Option(help: "The backend to measure.")
    var resolver: ResolverChoice = .thread

    @Option(help: "File of names: one per line, '#' starts a comment, the first field counts.")
    var names: String

    @Option(help: "Lookups in flight at once (tasks on the hub).")
    var concurrency: Int = 64

    @Option(help: "thread: threads in the resolver's pool.")
    var threads: Int = ResolverOptions().threads

    @Flag(inversion: .prefixedNo, help: "thread: keep each pool thread's UDP sockets to the name servers open between lookups.")
    var reuseSockets = true

    @Option(help: "ares: the DNS server, HOST:PORT.")
    var nameserver: String?

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    @Flag(help: .hidden)
    var iAmInDnsworld = false

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard concurrency > 0 else { throw ValidationError("--concurrency must be positive (got \(concurrency))") }
        guard threads > 0 else { throw ValidationError("--threads must be positive (got \(threads))") }
    }

    func run() async throws {
        guard iAmInDnsworld || insideDNSWorld() else {
            throw CommandFailure("refusing to run outside the DNS test world (DNSWORLD=1 unset or a default route exists): "
                                  + "run it as scripts/dnsworld run -- evergreen bench resolve ...")
        }
        guard let text = readText(names) else { throw CommandFailure("cannot read \(names)") }
        let list = text.split(separator: "\n").compactMap { line -> String? in
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            return content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).first.map(String.init)
        }
        guard !list.isEmpty else { throw CommandFailure("no names in \(names)") }

        var options = ResolverOptions()
        options.threads = threads
        options.reusesSockets = reuseSockets
        if let nameserver { options.nameservers = [nameserver] }
        let hub = try global.makeHub(name: "bench")
        defer { hub.shutdown() }
        let backend = try makeResolver(kind: resolver.kind, options: options, hub: hub)
        let workers = min(concurrency, list.count)
        let start = ContinuousClock.now
        let (ok, failed) = try await hub.run {
            try await Self.resolveAll(list, with: backend, workers: workers)
        }
        let seconds = secondsSince(start)
        await backend.close()
        let rate = seconds > 0 ? Double(ok) / seconds : 0
        let impl = "evergreen-\(resolver.rawValue)"
        if json {
            print(JSON.object([("bench", .string("resolve")), ("impl", .string(impl)), ("lookups", .integer(ok)),
                               ("failures", .integer(failed)), ("seconds", .number(seconds)), ("rate", .number(rate))]))
        } else {
            print("resolve \(resolver.rawValue): \(Int(rate)) lookups/s (\(ok) lookups, \(failed) failures, \(seconds) s)")
        }
        if ok == 0 { throw ExitCode(1) }
    }

    /// Runs `workers` tasks on the current hub, each taking the next name until
    /// none is left; returns (successful, failed) lookups.
    static func resolveAll(_ names: [String], with resolver: any Resolver, workers: Int) async throws -> (Int, Int) {
        let next = NameCursor()
        return try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for _ in 0..<workers {
                group.addTask {
                    var ok = 0, failed = 0
                    while true {
                        let index = next.take()
                        guard index < names.count else { break }
                        do {
                            let results = try await resolver.getaddrinfo(host: names[index], port: nil, family: .inet,
                                                                         type: .stream, proto: .any, flags: [])
                            if results.isEmpty { failed += 1 } else { ok += 1 }
                        } catch is CancellationError {
                            throw CancellationError()
                        } catch {
                            failed += 1
                        }
                    }
                    return (ok, failed)
                }
            }
            var total = (0, 0)
            for try await (ok, failed) in group {
                total.0 += ok
                total.1 += failed
            }
            return total
        }
    }
}

/// Hands out name indexes to the workers.
private final class NameCursor: Sendable {
    private let next = Atomic<Int>(0)
    /// The next index (past the end once every name is taken).
    func take() -> Int { next.add(1, ordering: .relaxed).oldValue }
}
