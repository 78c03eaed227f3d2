@testable import Resolvers
import EvergreenTestSupport
import Logging
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `Fixtures/config/<name>`.
func configFixture(_ name: String) -> String {
    var path = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false).dropLast(3).joined(separator: "/")
    path += "/Fixtures/config/\(name)"
    return path
}

/// A directory of the test's own, removed when `body` returns.
func withConfigDirectory<T>(_ body: (ConfigDirectory) async throws -> T) async throws -> T {
    var template = Array("/tmp/evergreen-config-XXXXXX".utf8CString)
    guard mkdtemp(&template) != nil else { throw InvalidArgument("mkdtemp failed: errno \(errno)") }
    let directory = ConfigDirectory(path: String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    defer { directory.remove() }
    return try await body(directory)
}

/// A temporary directory to write config files into.
struct ConfigDirectory: Sendable {
    let path: String

    /// Writes `text` (or `bytes`) to `name` and returns the file's path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String { try write(name, bytes: Array(text.utf8)) }

    @discardableResult
    func write(_ name: String, bytes: [UInt8]) throws -> String {
        let file = "\(path)/\(name)"
        let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw InvalidArgument("cannot create \(file): errno \(errno)") }
        defer { close(fd) }
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { throw InvalidArgument("cannot write \(file): errno \(errno)") }
            written += count
        }
        return file
    }

    func remove() {
        if let dir = opendir(path) {
            while let entry = readdir(dir) {
                let name = directoryEntryName(entry)
                if name != "." && name != ".." { unlink("\(path)/\(name)") }
            }
            closedir(dir)
        }
        rmdir(path)
    }
}

/// Loads with only `environment` (never the process's) and `code`.
func load(_ code: ResolverConfiguration = ResolverConfiguration(), environment: [String: String] = [:]) throws -> EffectiveConfiguration {
    try ConfigurationLoader(code: code, environment: environment).load()
}

/// The `ConfigurationError` that `body` throws; fails the test if it throws
/// anything else or nothing.
func configurationError(_ body: () throws -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> ConfigurationError? {
    do {
        try body()
        Issue.record("expected a ConfigurationError, got none", sourceLocation: sourceLocation)
    } catch let error as ConfigurationError {
        return error
    } catch {
        Issue.record("expected a ConfigurationError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
    }
    return nil
}

/// A log handler that keeps every line, for checking what was logged.
struct RecordingLogHandler: LogHandler {
    /// The lines logged so far, shared by every copy.
    final class Lines: Sendable {
        private let lines = Mutex<[(Logger.Level, String)]>([])
        func append(_ level: Logger.Level, _ text: String) { lines.withLock { $0.append((level, text)) } }
        var all: [(level: Logger.Level, text: String)] { lines.withLock { $0.map { (level: $0.0, text: $0.1) } } }
        func texts(at level: Logger.Level) -> [String] { all.filter { $0.level == level }.map(\.text) }
    }

    let lines: Lines
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        lines.append(event.level, event.message.description)
    }
}

/// A resolver that answers from a table, for decorator tests (no DNS at all).
struct TableResolver: Resolver {
    let table: [String: [String]]
    var name: String { "table" }

    func getaddrinfo(host: String?, port: ServicePort?, family: AddressFamily, type: SocketType,
                     proto: IPProtocol, flags: AddressInfoFlags) async throws -> [AddressInfo] {
        guard let host, let addresses = table[host] else { throw AddressInfoError(code: AddressInfoError.noName) }
        return addresses.map { AddressInfo(family: .inet, type: .stream, proto: .tcp, address: .inet(host: $0, port: 0)) }
    }
    func gethostbyname(_ host: String) async throws -> String {
        guard let first = table[host]?.first else { throw HostError(code: HostError.hostNotFound) }
        return first
    }
    func gethostbynameEx(_ host: String) async throws -> HostEntry {
        HostEntry(name: host, aliases: [], addresses: table[host] ?? [])
    }
    func gethostbyaddr(_ address: String) async throws -> HostEntry { throw HostError(code: HostError.hostNotFound) }
    func getnameinfo(_ address: SocketAddress, flags: NameInfoFlags) async throws -> (host: String, service: String) {
        (address.host, "0")
    }
    func close() async {}
}

/// A backend maker that refuses the kinds in `broken` and makes the rest
/// as usual, logging to `lines`.
func testMaker(refusing broken: Set<ResolverKind> = [], lines: RecordingLogHandler.Lines? = nil) -> BackendMaker {
    var maker = BackendMaker(make: { kind, effective, hub in
        if broken.contains(kind) { throw InvalidArgument("\(kind) is broken for this test") }
        return try BackendMaker.standard.make(kind, effective, hub)
    })
    if let lines {
        maker.logHandler = { @Sendable (_: String) -> any LogHandler in RecordingLogHandler(lines: lines) }
    }
    return maker
}
