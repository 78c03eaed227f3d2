import ArgumentParser
import Sockets
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `evergreen soak`: long runs of waits, lookups and connections on one hub,
/// checking that memory, descriptors, watchers and pending waits stay flat.
///
/// Each phase runs in chunks; after each chunk (nothing in flight) it samples
/// VmRSS, the number of open descriptors and `hub.statistics()`. The first
/// chunk is the warm-up and the sample after it the baseline: later samples
/// must stay within the memory tolerance, and the last must have the
/// baseline's descriptors, active watchers and pending waits.
struct Soak: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "Soak the hub: wait round trips, lookups per backend, connections; check nothing grows.",
        discussion: """
            The lookups phase resolves the names of Fixtures/dns/bench-names.txt and runs only inside \
            the DNS test world (scripts/dnsworld run -- ...); c-ares asks --nameserver, a loopback server. \
            Connections go to a listener on 127.0.0.1 in this process. The thread backend closes its \
            UDP sockets after every lookup here (reusesSockets off), so that no descriptor may stay. \
            Exits non-zero if any phase fails. \
            `--scale 0.01` gives a run of a few seconds.
            """
    )

    @Option(help: "Multiplies every count below (0.01 for a quick run).")
    var scale: Double = 1

    @Option(help: "Wait round trips.")
    var waits: Int = 1_000_000

    @Option(help: "Lookups per backend.")
    var lookups: Int = 200_000

    @Option(help: "Connections opened and closed.")
    var connections: Int = 100_000

    @Option(help: "Phases to run, comma-separated: waits, lookups, connections.")
    var phases: String = "waits,lookups,connections"

    @Option(help: "Backends of the lookups phase, comma-separated: thread, block, ares.")
    var backends: String = "thread,block,ares"

    @Option(help: "File of names to look up, one per line (default: $DNSWORLD_DIR/bench-names.txt).")
    var names: String?

    @Option(help: "ares: the DNS server, IP:PORT on loopback.")
    var nameserver: String = "127.0.0.1:53"

    @Option(help: "Lookups in flight at once (thread, ares).")
    var concurrency: Int = 64

    @Option(help: "Lookups in flight at once for block, whose every lookup blocks the hub's thread.")
    var blockConcurrency: Int = 2

    @Option(help: "Client tasks connecting at once.")
    var connectionConcurrency: Int = 32

    @Option(help: "Chunks per phase, each followed by a sample; the first is the warm-up.")
    var chunks: Int = 10

    @Option(help: "How much resident memory may grow over the baseline, in percent.")
    var memoryTolerance: Double = 10

    @Option(help: .hidden)
    var leakPerChunk: Int = 0

    @OptionGroup var global: GlobalOptions

    /// The phases asked for, in the order given.
    var phaseList: [String] { list(phases) }
    /// The backends asked for, in the order given.
    var backendList: [String] { list(backends) }

    func validate() throws {
        guard scale > 0, scale.isFinite else { throw ValidationError("--scale must be a positive number (got \(scale))") }
        for (name, value) in [("--waits", waits), ("--lookups", lookups), ("--connections", connections)] where value < 0 {
            throw ValidationError("\(name) must not be negative (got \(value))")
        }
        for (name, value) in [("--concurrency", concurrency), ("--block-concurrency", blockConcurrency),
                              ("--connection-concurrency", connectionConcurrency)] where value < 1 {
            throw ValidationError("\(name) must be at least 1 (got \(value))")
        }
        guard chunks >= 2 else { throw ValidationError("--chunks must be at least 2: a warm-up and one to compare (got \(chunks))") }
        guard memoryTolerance >= 0 else { throw ValidationError("--memory-tolerance must not be negative") }
        let unknownPhases = phaseList.filter { !["waits", "lookups", "connections"].contains($0) }
        guard unknownPhases.isEmpty, !phaseList.isEmpty else {
            throw ValidationError("--phases: unknown or empty \(unknownPhases) (expected waits, lookups, connections)")
        }
        let unknownBackends = backendList.filter { ResolverChoice(rawValue: $0) == nil }
        guard unknownBackends.isEmpty, !backendList.isEmpty else {
            throw ValidationError("--backends: unknown or empty \(unknownBackends) (expected thread, block, ares)")
        }
        let server = try AresNameserver(parsing: nameserver)
        guard server.address.hasPrefix("127.") || server.address == "::1" else {
            throw ValidationError("--nameserver must be a loopback address (got \(nameserver))")
        }
    }

    func run() async throws {
        if phaseList.contains("lookups") && !insideDNSWorld() {
            throw CommandFailure("the lookups phase runs only inside the DNS test world: "
                                 + "scripts/dnsworld run -- evergreen soak ... (or leave it out with --phases)")
        }
        let hub = try global.makeHub(name: "soak")
        defer { hub.shutdown() }
        var reports: [SoakReport] = []
        for phase in phaseList {
            switch phase {
            case "waits": reports.append(try await soakWaits(hub))
            case "lookups":
                for backend in backendList { reports.append(try await soakLookups(hub, backend: backend)) }
            default: reports.append(try await soakConnections(hub))
            }
        }
        let failed = reports.filter { !$0.problems.isEmpty }.map(\.phase)
        if failed.isEmpty {
            print("soak: PASS (\(reports.map(\.phase).joined(separator: ", ")))")
        } else {
            print("soak: FAIL (\(failed.joined(separator: ", ")))")
            throw ExitCode(1)
        }
    }

    // MARK: Phases

    private func soakWaits(_ hub: Hub) async throws -> SoakReport {
        let rig = try SoakWorkloads.WaitRig(hub: hub)
        defer { rig.close() }
        return try await runPhase("waits", unit: "round trips", total: scaled(waits), hub: hub) { count, _ in
            try await SoakWorkloads.waitRoundTrips(count, rig: rig)
        }
    }

    private func soakLookups(_ hub: Hub, backend: String) async throws -> SoakReport {
        let nameList = try loadNames()
        var options = ResolverOptions()
        options.nameservers = [nameserver]
        // Kept open, each pool thread's UDP socket would appear at that
        // thread's first lookup, which may come after the warm-up (a thread
        // that found the queue empty): the descriptor count would rise by
        // design, at a moment no chunk controls. Closed after every lookup,
        // every socket must be gone again, which is the stricter check.
        options.reusesSockets = false
        let kind = ResolverChoice(rawValue: backend)!.kind
        let resolver = try makeResolver(kind: kind, options: options, hub: hub)
        let inFlight = kind == .block ? blockConcurrency : concurrency
        let report = try await runPhase("lookups/\(backend)", unit: "lookups", total: scaled(lookups), hub: hub) { count, done in
            try await SoakWorkloads.lookups(count, from: done, names: nameList, resolver: resolver, concurrency: inFlight)
        }
        await resolver.close()
        return report
    }

    private func soakConnections(_ hub: Hub) async throws -> SoakReport {
        let listener = try await hub.run {
            HubBound(try createServer(address: .inet(host: "127.0.0.1", port: 0), backlog: 1024))
        }
        let address = try await hub.run { try listener.value.localAddress() }
        let concurrency = connectionConcurrency
        let report = try await runPhase("connections", unit: "connections", total: scaled(connections), hub: hub) { count, _ in
            try await SoakWorkloads.connections(count, listener: listener, address: address, concurrency: concurrency)
        }
        try await hub.run { try listener.value.close() }
        return report
    }

    /// Runs `work` on the hub in `chunks` parts, sampling before the first
    /// and after each; prints and returns the report.
    private func runPhase(_ name: String, unit: String, total: Int, hub: Hub,
                          work: @escaping @Sendable (_ count: Int, _ done: Int) async throws -> SoakWorkloads.Failures)
        async throws -> SoakReport {
        var samples = [try await SoakSample.take("start", done: 0, hub: hub)]
        let parts = min(chunks, max(1, total))
        let started = ContinuousClock.now
        var done = 0
        var failures = SoakWorkloads.Failures()
        for part in 0..<parts {
            let count = total / parts + (part < total % parts ? 1 : 0)
            let before = done
            failures.add(try await hub.run { try await work(count, before) })
            done += count
            if leakPerChunk > 0 { SoakSelfTest.leak(leakPerChunk) }
            samples.append(try await SoakSample.take(part == 0 ? "warm-up" : "chunk \(part + 1)", done: done, hub: hub))
        }
        let report = SoakReport(phase: name, unit: unit, total: total, samples: samples, failures: failures.count,
                                firstFailure: failures.first, seconds: secondsSince(started),
                                memoryTolerance: memoryTolerance / 100)
        print(report.text)
        return report
    }

    // MARK: Helpers

    private func scaled(_ count: Int) -> Int { Int((Double(count) * scale).rounded()) }

    private func list(_ text: String) -> [String] {
        text.split(separator: ",").map { String($0).trimmingCharacters() }.filter { !$0.isEmpty }
    }

    /// The names to look up: `--names`, else the DNS world's bench names.
    private func loadNames() throws -> [String] {
        let path = names ?? (getenv("DNSWORLD_DIR").map { String(cString: $0) } ?? "Fixtures/dns") + "/bench-names.txt"
        guard let text = readText(path) else { throw CommandFailure("cannot read the names file \(path)") }
        let list = text.split(separator: "\n").compactMap { line -> String? in
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            return content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }).first.map(String.init)
        }
        guard !list.isEmpty else { throw CommandFailure("no names in \(path)") }
        return list
    }
}

/// `--leak-per-chunk N` (hidden): leaks N descriptors and N MiB after each
/// chunk, so that a test can check the soak notices and fails.
enum SoakSelfTest {
    private static let kept = Mutex<[Int]>([])

    static func leak(_ count: Int) {
        for _ in 0..<count {
            _ = open("/dev/null", O_RDONLY)
            let block = UnsafeMutableRawPointer.allocate(byteCount: 1 << 20, alignment: 16)
            block.initializeMemory(as: UInt8.self, repeating: 1, count: 1 << 20)
            kept.withLock { $0.append(Int(bitPattern: block)) }
        }
    }
}

extension String {
    /// The text without surrounding spaces and tabs.
    fileprivate func trimmingCharacters() -> String {
        let isBlank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let first = firstIndex(where: { !isBlank($0) }), let last = lastIndex(where: { !isBlank($0) }) else { return "" }
        return String(self[first...last])
    }
}
