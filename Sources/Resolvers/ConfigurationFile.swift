import Configuration
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A config file, read with a size bound and parsed by swift-configuration's
/// own `JSONSnapshot` or `YAMLSnapshot`: the snapshots `FileProvider` uses,
/// fed by a bounded read because `FileProvider` reads a file whole,
/// whatever its size.
struct ConfigurationFile {
    /// The file's syntax.
    enum Format: String { case json = "JSON", yaml = "YAML" }

    /// The path as given.
    let path: String
    /// JSON or YAML.
    let format: Format
    /// The parsed file, for a `ConfigReader`.
    let provider: SnapshotProvider
    /// The top-level keys present, and for JSON each value's type.
    let topLevelKeys: Set<String>
    /// Keys nested under a top-level key (`timeout.x`), YAML only.
    let nestedKeys: Set<String>
    /// For JSON, each top-level value's type.
    let outline: JSONOutline?

    /// Reads and parses the file at `path`.
    ///
    /// - Throws: `ConfigurationError` for a missing, unreadable, too large,
    ///   too deep or malformed file, or a JSON list holding non-text values.
    static func load(path: String, maximumSize: Int, maximumNesting: Int) throws -> ConfigurationFile {
        let source = ConfigurationSource.file(path: path)
        let bytes = try readBounded(path: path, limit: maximumSize)
        guard bytes.contains(where: { ![UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r")].contains($0) }) else {
            throw ConfigurationError(.malformedFile, source: source, reason: "the file is empty (expected one object of settings, e.g. {})")
        }
        // Settings files are UTF-8 text; a NUL means UTF-16/32 or binary,
        // which the scanner below (a UTF-8 reader) would misread.
        if let nul = bytes.firstIndex(of: 0) {
            throw ConfigurationError(.malformedFile, source: source, reason: "not UTF-8 text (a NUL byte at offset \(nul))")
        }
        let format = detectFormat(path: path, bytes: bytes)
        var outline: JSONOutline?
        do {
            switch format {
            case .json:
                outline = try ConfigurationFileScan.json(bytes, maximumNesting: maximumNesting)
            case .yaml:
                try ConfigurationFileScan.yaml(bytes, maximumNesting: maximumNesting)
            }
        } catch {
            switch error {
            case .tooDeep(let limit, let line):
                throw ConfigurationError(.nestingTooDeep, source: source, reason: "nesting deeper than \(limit) levels at line \(line)")
            case .alias(let line):
                throw ConfigurationError(.malformedFile, source: source, reason: "YAML anchors and aliases are not supported (line \(line))")
            }
        }
        // A JSON list with a number in it would fail inside the parser with
        // a vaguer message: report it as the wrong type for its key.
        for key in ConfigurationKey.allCases where key.jsonKinds.contains(.array) {
            if let entry = outline?[key.rawValue], entry.kind == .array, !entry.elements.isSubset(of: [.string]) {
                throw ConfigurationError(.wrongType, source: source, key: key.rawValue, value: entry.text,
                                         reason: "expected \(key.expected)")
            }
        }
        let recorder = KeyRecorder()
        let snapshot: any ConfigSnapshot
        do {
            switch format {
            case .json:
                snapshot = try JSONSnapshot(data: bytes.span.bytes, providerName: "file \(path)", parsingOptions: .default)
            case .yaml:
                // The secrets hook sees every key the parser produced: the
                // only public way to learn which keys a YAML file has.
                let options = YAMLSnapshot.ParsingOptions(secretsSpecifier: .dynamic { key, _ in recorder.add(key); return false })
                snapshot = try YAMLSnapshot(data: bytes.span.bytes, providerName: "file \(path)", parsingOptions: options)
            }
        } catch {
            throw ConfigurationError(.malformedFile, source: source,
                                     reason: "not valid \(format.rawValue) (\(parserMessage(error, bytes: bytes)))")
        }
        var topLevel = Set<String>(), nested = Set<String>()
        if let outline {
            topLevel = Set(outline.entries.keys)
        } else {
            for key in recorder.keys {
                let parts = key.split(separator: ".", maxSplits: 1)
                topLevel.insert(String(parts.first ?? ""))
                if parts.count > 1 { nested.insert(key) }
            }
        }
        return ConfigurationFile(path: path, format: format, provider: SnapshotProvider(snapshot: snapshot),
                                 topLevelKeys: topLevel, nestedKeys: nested, outline: outline)
    }

    /// The file's settings, every key and value checked.
    ///
    /// - Throws: `ConfigurationError` naming the file, the key and the value.
    func read() throws -> ResolverConfiguration {
        let source = ConfigurationSource.file(path: path)
        let reader = ConfigReader(provider: provider)
        for key in topLevelKeys.sorted() where ConfigurationKey(rawValue: key) == nil {
            var reason = "unknown setting"
            if let hint = ConfigurationKey.suggestion(for: key) { reason += " (did you mean '\(hint)'?)" }
            let value = outline?[key]?.text ?? reader.string(forKey: ConfigKey([key]))
            throw ConfigurationError(.unknownKey, source: source, key: key, value: value, reason: reason)
        }
        // `timeout: {seconds: 1}` is a mapping where a value belongs.
        if let key = nestedKeys.sorted().first, let name = key.split(separator: ".").first,
           let setting = ConfigurationKey(rawValue: String(name)) {
            throw ConfigurationError(.wrongType, source: source, key: setting.rawValue, value: "{\(key.dropFirst(name.count + 1)): ...}",
                                     reason: "expected \(setting.expected)")
        }
        return try ConfigurationLayer(reader: reader, source: { _ in source }, jsonOutline: outline).read()
    }

    /// The parser's complaint without Foundation's wrapping; for JSON the
    /// "character N" it names is turned into a line and column.
    static func parserMessage(_ error: any Error, bytes: [UInt8]) -> String {
        var text = "\(error)"
        if let start = text.firstRange(of: "NSDebugDescription=") {
            text = String(text[start.upperBound...].prefix { $0 != "}" })
        }
        if let marker = text.firstRange(of: "character "),
           let offset = Int(text[marker.upperBound...].prefix { $0.isNumber }), offset <= bytes.count {
            let before = bytes[..<offset]
            let line = before.filter { $0 == UInt8(ascii: "\n") }.count + 1
            let column = offset - (before.lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0) + 1
            text += " (line \(line), column \(column))"
        }
        return text
    }

    /// JSON for `.json`, YAML for `.yaml`/`.yml`, else JSON if the text
    /// starts with `{`.
    static func detectFormat(path: String, bytes: [UInt8]) -> Format {
        let lowered = path.lowercased()
        if lowered.hasSuffix(".json") { return .json }
        if lowered.hasSuffix(".yaml") || lowered.hasSuffix(".yml") { return .yaml }
        let first = bytes.first { ![UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r")].contains($0) }
        return first == UInt8(ascii: "{") ? .json : .yaml
    }

    /// The file's bytes, refusing anything but a regular file of at most `limit` bytes.
    static func readBounded(path: String, limit: Int) throws -> [UInt8] {
        let source = ConfigurationSource.file(path: path)
        func failure(_ code: Int32, _ doing: String) -> ConfigurationError {
            let missing = code == ENOENT || code == ENOTDIR
            return ConfigurationError(missing ? .missingFile : .unreadableFile, source: source,
                                      reason: missing ? "the file does not exist" : "cannot \(doing): \(String(cString: strerror(code)))")
        }
        guard !path.isEmpty else { throw ConfigurationError(.missingFile, source: source, reason: "the path is empty") }
        // open() would stop at a NUL and read some other file.
        guard !path.utf8.contains(0) else {
            throw ConfigurationError(.missingFile, source: source, reason: "the path contains a NUL byte")
        }
        // O_NONBLOCK: opening a FIFO must not wait for a writer.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw failure(errno, "open it") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw failure(errno, "stat it") }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw ConfigurationError(.unreadableFile, source: source,
                                     reason: info.st_mode & S_IFMT == S_IFDIR ? "it is a directory" : "it is not a regular file")
        }
        let tooLarge = ConfigurationError(.fileTooLarge, source: source,
                                          reason: "the file is larger than \(limit) bytes")
        guard info.st_size <= limit else { throw tooLarge }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure(errno, "read it")
            }
            if count == 0 { return bytes }
            // The file may have grown since fstat.
            guard bytes.count + count <= limit else { throw tooLarge }
            bytes.append(contentsOf: chunk[..<count])
        }
    }
}

/// Collects the keys the YAML parser reports (from its own threads, hence the lock).
final class KeyRecorder: Sendable {
    private let storage = Mutex<[String]>([])
    func add(_ key: String) { storage.withLock { $0.append(key) } }
    var keys: [String] { storage.withLock { $0 } }
}

/// A `ConfigProvider` over one parsed snapshot that never changes.
struct SnapshotProvider: ConfigProvider {
    /// The parsed file.
    let fixed: any ConfigSnapshot

    init(snapshot: any ConfigSnapshot) { self.fixed = snapshot }

    var providerName: String { fixed.providerName }

    func value(forKey key: AbsoluteConfigKey, type: ConfigType) throws -> LookupResult {
        try fixed.value(forKey: key, type: type)
    }

    func fetchValue(forKey key: AbsoluteConfigKey, type: ConfigType) async throws -> LookupResult {
        try value(forKey: key, type: type)
    }

    nonisolated(nonsending) func watchValue<Return: ~Copyable>(
        forKey key: AbsoluteConfigKey, type: ConfigType,
        updatesHandler: nonisolated(nonsending) (_ updates: ConfigUpdatesAsyncSequence<Result<LookupResult, any Error>, Never>) async throws -> Return
    ) async throws -> Return {
        try await watchValueFromValue(forKey: key, type: type, updatesHandler: updatesHandler)
    }

    func snapshot() -> any ConfigSnapshot { fixed }

    nonisolated(nonsending) func watchSnapshot<Return: ~Copyable>(
        updatesHandler: nonisolated(nonsending) (_ updates: ConfigUpdatesAsyncSequence<any ConfigSnapshot, Never>) async throws -> Return
    ) async throws -> Return {
        try await watchSnapshotFromSnapshot(updatesHandler: updatesHandler)
    }
}
