import ArgumentParser
import Sockets

/// `evergreen resolve`: what `getent ahosts` shows, through a chosen backend
/// (or all of them side by side).
struct Resolve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolve",
        abstract: "Resolve names: the unique addresses of getaddrinfo(NAME, nil, FAMILY, SOCK_STREAM), in order.",
        discussion: """
            Exit status 1 when any name failed (with --compare: on any backend).
            --compare runs every backend and marks results that differ from the first.
            """
    )

    @Option(help: "The backend to use (default: the configured one, see `evergreen config show`).")
    var resolver: ResolverChoice?

    @OptionGroup var global: GlobalOptions

    @OptionGroup var ares: AresCommandOptions

    @Option(help: "The address family to ask for.")
    var family: FamilyChoice = .any

    @Flag(help: "Print one JSON object per name (and backend) per line.")
    var json = false

    @Flag(help: "Run every backend side by side and mark differences.")
    var compare = false

    @Argument(help: "Host names or addresses.")
    var names: [String] = []

    func validate() throws {
        guard !names.isEmpty else { throw ValidationError("give at least one NAME") }
        if !ares.isEmpty && resolver != .ares && !compare {
            throw ValidationError("--nameserver, --timeout and --tries are c-ares settings: add --resolver ares")
        }
    }

    func run() async throws {
        let hub = try global.makeHub(name: "resolve")
        defer { hub.shutdown() }
        var backends: [(kind: ResolverKind, resolver: Result<any Resolver, any Error>)] = []
        if compare {
            for kind in ResolverKind.allCases {
                backends.append((kind, Result { try makeResolver(kind: kind, options: ares.resolverOptions(), hub: hub) }))
            }
        } else if let resolver {
            backends.append((resolver.kind, .success(try makeResolver(kind: resolver.kind, options: ares.resolverOptions(), hub: hub))))
        } else {
            backends.append((ResolverKind(rawValue: hub.resolver.name), .success(hub.resolver)))
        }
        var anyFailed = false
        for name in names {
            var lines: [ResolveOutcome] = []
            for backend in backends {
                switch backend.resolver {
                case .success(let resolver):
                    lines.append(await ResolveOutcome.lookUp(name, family: family.family, with: resolver, kind: backend.kind, on: hub))
                case .failure(let error):
                    lines.append(ResolveOutcome(name: name, backend: backend.kind, unavailable: "\(error)"))
                }
            }
            let reference = lines.first { $0.unavailable == nil }
            for line in lines {
                let differs = compare && line.unavailable == nil && reference.map { !$0.sameAnswer(as: line) } == true
                // DNS round-robin (dnsmasq rotates multi-address answers) reorders between lookups.
                let orderOnly = differs && reference.map { $0.sameAnswerInAnyOrder(as: line) } == true
                if line.error != nil { anyFailed = true }
                print(json ? line.json(compare: compare, differs: differs, orderOnly: orderOnly)
                           : line.text(compare: compare, differs: differs, orderOnly: orderOnly, reference: reference?.backend))
            }
        }
        for backend in backends { if case .success(let resolver) = backend.resolver { await resolver.close() } }
        if anyFailed { throw ExitCode(1) }
    }
}

/// One name through one backend.
struct ResolveOutcome {
    var name: String
    var backend: ResolverKind
    var addresses: [String] = []
    var canonical: String?
    var error: String?
    var seconds: Double = 0
    /// Why the backend could not be made (compare mode).
    var unavailable: String?

    /// Runs the lookup on `hub` and keeps the unique addresses in order.
    static func lookUp(_ name: String, family: AddressFamily, with resolver: any Resolver, kind: ResolverKind,
                       on hub: Hub) async -> ResolveOutcome {
        var outcome = ResolveOutcome(name: name, backend: kind)
        let start = ContinuousClock.now
        do {
            let results = try await hub.run {
                try await resolver.getaddrinfo(host: name, port: nil, family: family, type: .stream, proto: .any,
                                               flags: [.canonicalName])
            }
            outcome.seconds = secondsSince(start)
            for result in results where !outcome.addresses.contains(result.address.host) {
                outcome.addresses.append(result.address.host)
            }
            if let canonical = results.first?.canonicalName, !canonical.isEmpty { outcome.canonical = canonical }
        } catch {
            outcome.seconds = secondsSince(start)
            outcome.error = errorText(error)
        }
        return outcome
    }

    /// Same addresses, canonical name and error.
    func sameAnswer(as other: ResolveOutcome) -> Bool {
        addresses == other.addresses && canonical == other.canonical && error == other.error
    }

    /// The same answer but for the order of the addresses.
    func sameAnswerInAnyOrder(as other: ResolveOutcome) -> Bool {
        addresses.sorted() == other.addresses.sorted() && canonical == other.canonical && error == other.error
    }

    func text(compare: Bool, differs: Bool, orderOnly: Bool, reference: ResolverKind?) -> String {
        let answer: String
        if let unavailable {
            answer = "n/a: \(unavailable)"
        } else if let error {
            answer = "error: \(error)"
        } else {
            answer = addresses.joined(separator: " ")
                + (canonical.map { $0 == name ? "" : "  (canonical name \($0))" } ?? "")
        }
        guard compare else { return "\(name)  \(answer)" }
        let other = reference.map(\.rawValue) ?? ""
        let mark = orderOnly ? "  <- same addresses as \(other), other order" : differs ? "  <- differs from \(other)" : ""
        let padded = backend.rawValue + String(repeating: " ", count: max(1, 8 - backend.rawValue.count))
        return "\(name)  \(padded)\(answer)\(mark)"
    }

    func json(compare: Bool, differs: Bool, orderOnly: Bool) -> String {
        var fields: [(String, JSON.Value)] = [
            ("name", .string(name)),
            ("backend", .string(backend.rawValue)),
            ("addresses", .strings(addresses)),
            ("canonical", canonical.map { .string($0) } ?? .null),
            ("error", (unavailable ?? error).map { .string($0) } ?? .null),
            ("seconds", unavailable == nil ? .number(seconds) : .null),
        ]
        if compare {
            fields.append(("available", .bool(unavailable == nil)))
            fields.append(("differs", .bool(differs)))
            fields.append(("orderOnly", .bool(orderOnly)))
        }
        return JSON.object(fields)
    }
}
