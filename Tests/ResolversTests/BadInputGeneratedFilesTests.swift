@testable import Resolvers
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Config files made at test time (rather than committing megabytes):
/// truncations, random bytes, absurd nesting, sizes over the limit and
/// files that are not regular. Each is a `ConfigurationError` naming the
/// file, quickly; none may crash the parser or exhaust the stack.
@Suite("Bad input: generated config files", .timeLimit(.minutes(2)))
struct GeneratedConfigFileBadInputTests {
    @Test(arguments: ["full.json", "full.yaml"])
    func everyTruncationOfAGoodFile(_ name: String) async throws {
        let bytes = try readAll(configFixture(name))
        // The last byte that belongs to the document (the rest is blanks).
        let end = bytes.lastIndex { ![UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t")].contains($0) }!
        var refused = 0
        try await withConfigDirectory { directory in
            for length in 0..<bytes.count {
                // Loading is synchronous: let other tests' tasks have this thread now and then.
                await Task.yield()
                let path = try directory.write("cut-\(length).\(name.split(separator: ".").last!)", bytes: Array(bytes[..<length]))
                do {
                    _ = try load(ResolverConfiguration(configFile: path))
                    // JSON is complete only with its closing brace; a YAML
                    // prefix may be a smaller valid document.
                    if name.hasSuffix(".json") && length <= end { Issue.record("\(name) cut at \(length) bytes loaded") }
                } catch let error as ConfigurationError {
                    refused += 1
                    #expect(error.source == .file(path: path), "\(name) cut at \(length): \(error)")
                    #expect(!error.description.utf8.contains(0), "\(name) cut at \(length): a NUL in the message")
                } catch {
                    Issue.record("\(name) cut at \(length): threw \(type(of: error)): \(error)")
                }
            }
        }
        print("bad input, truncations of \(name): \(bytes.count) cuts, \(refused) refused")
        #expect(refused > 0)
    }

    @Test func randomBytes() async throws {
        var generator = SplitMix64(seed: 0x5EED_E4A4_5710)
        let count = 200
        try await withConfigDirectory { directory in
            for index in 0..<count {
                await Task.yield()
                let length = Int(generator.next() % 4096) + 1
                let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                let name = "random-\(index)" + ["", ".json", ".yaml"][index % 3]
                let path = try directory.write(name, bytes: bytes)
                do {
                    let effective = try load(ResolverConfiguration(configFile: path))
                    Issue.record("\(name) (\(length) random bytes) loaded: \(effective.settings)")
                } catch let error as ConfigurationError {
                    #expect(error.source == .file(path: path), "\(name): \(error)")
                } catch {
                    Issue.record("\(name): threw \(type(of: error)): \(error)")
                }
            }
        }
        print("bad input, random files: \(count)")
    }

    @Test func absurdNesting() async throws {
        // Made one at a time (megabytes each), yielding in between.
        let cases: [(String, () -> String)] = [
            ("objects.json", { String(repeating: "{\"a\":", count: 100_000) + "1" + String(repeating: "}", count: 100_000) }),
            ("million-brackets.json", { "{\"resolver\": " + String(repeating: "[", count: 1_000_000) }),
            ("unclosed-objects.json", { String(repeating: "{", count: 1_000_000) }),
            ("block-mapping.yaml", { (0..<100).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n") + " 1\n" }),
            ("flow-mapping.yaml", { "resolver: " + String(repeating: "{a: ", count: 100_000) + "1" + String(repeating: "}", count: 100_000) + "\n" }),
            ("sequence-dashes.yaml", { "resolver:\n" + String(repeating: "- ", count: 10_000) + "ares\n" }),
            ("unclosed-flow.yaml", { String(repeating: "[", count: 1_000_000) }),
        ]
        try await withConfigDirectory { directory in
            for (name, text) in cases {
                await Task.yield()
                let path = try directory.write(name, text())
                let error = configurationError { _ = try load(ResolverConfiguration(configFile: path)) }
                #expect(error?.kind == .nestingTooDeep, "\(name): \(error.map { "\($0)" } ?? "nil")")
            }
        }
    }

    @Test func overTheSizeLimit() async throws {
        try await withConfigDirectory { directory in
            let twoMiB = try directory.write("two-mib.yaml", "# " + String(repeating: "x", count: 2 << 20) + "\ntries: 2\n")
            let sparse = "\(directory.path)/sparse.json"
            let fd = open(sparse, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            #expect(fd >= 0)
            #expect(ftruncate(fd, 1 << 30) == 0)  // 1 GiB of holes: never read
            close(fd)
            let longLine = try directory.write("long-value.json", "{\"nameservers\": [\"" + String(repeating: "1", count: (1 << 20) - 40) + "\"]}")
            for (path, kind) in [(twoMiB, ConfigurationError.Kind.fileTooLarge), (sparse, .fileTooLarge), (longLine, .malformedAddress)] {
                let clock = ContinuousClock(), start = clock.now
                let error = configurationError { _ = try load(ResolverConfiguration(configFile: path)) }
                #expect(error?.kind == kind, "\(path): \(error.map { "\($0)" } ?? "nil")")
                #expect((error?.value?.count ?? 0) <= 100, "the bad value is cut short in the error")
                // A hang guard: reading the gigabyte would take minutes under a sanitizer.
                #expect(start.duration(to: clock.now) < .seconds(60), "\(path) took too long")
            }
        }
    }

    @Test func filesThatAreNotRegular() async throws {
        try await withConfigDirectory { directory in
            let fifo = "\(directory.path)/fifo.json"
            #expect(mkfifo(fifo, 0o600) == 0)
            let loop = "\(directory.path)/loop.json"
            #expect(symlink(loop, loop) == 0)
            let cases: [(String, ConfigurationError.Kind, String)] = [
                (fifo, .unreadableFile, "not a regular file"),      // opened without waiting for a writer
                (loop, .unreadableFile, "cannot open it"),
                ("/dev/zero", .unreadableFile, "not a regular file"),
                (directory.path, .unreadableFile, "it is a directory"),
                ("\(directory.path)/missing/x.json", .missingFile, "does not exist"),
            ]
            for (path, kind, message) in cases {
                let error = configurationError { _ = try load(ResolverConfiguration(configFile: path)) }
                #expect(error?.kind == kind, "\(path): \(error.map { "\($0)" } ?? "nil")")
                #expect(error?.description.contains(message) == true, "\(path): \(error.map { "\($0)" } ?? "nil")")
            }
        }
    }
}

/// A small, fast, seedable generator: the same "random" files every run.
struct SplitMix64 {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A whole (small) file.
func readAll(_ path: String) throws -> [UInt8] {
    guard let file = fopen(path, "rb") else { throw InvalidArgument("cannot open \(path)") }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = fread(&chunk, 1, chunk.count, file)
        if count <= 0 { return bytes }
        bytes += chunk[..<count]
    }
}
