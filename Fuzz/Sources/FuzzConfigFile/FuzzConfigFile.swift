import FuzzSupport
import Resolvers
#if canImport(Glibc)
import Glibc
#endif

// The config file loader on any bytes: the first byte picks the name's
// extension (.json, .yaml, .yml or none), the rest is the file. Invariants:
// load() gives a configuration or a ConfigurationError naming the file, with
// a short message; the parsers neither crash nor recurse without bound.

/// One file per process, rewritten for each input (in /dev/shm when there is one).
private let path: [String] = {
    let directory = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp"
    return ["", ".json", ".yaml", ".yml"].map { "\(directory)/evergreen-fuzz-\(getpid())\($0)" }
}()

/// libFuzzer's entry point: checks one input against the invariants above.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfigFile(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard size > 0, let data else { return 0 }
    let file = path[Int(data[0]) % path.count]
    let fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard fd >= 0 else { fatalError("cannot write \(file)") }
    var written = 1
    while written < size {
        let count = write(fd, data + written, size - written)
        guard count > 0 else { fatalError("cannot write \(file)") }
        written += count
    }
    close(fd)
    defer { unlink(file) }
    do {
        _ = try ConfigurationLoader(code: ResolverConfiguration(configFile: file), environment: [:]).load()
    } catch let error as ConfigurationError {
        if error.source != .file(path: file) { finding("the error names \(error.source), not the file: \(error)") }
        if error.description.count > 2_000 { finding("a \(error.description.count)-character error") }
    } catch {
        finding("threw \(type(of: error)): \(error)")
    }
    return 0
}

/// The process entry point (SwiftPM links `main` as `FuzzConfigFile_main`): runs libFuzzer.
@_cdecl("FuzzConfigFile_main")
public func fuzzConfigFileMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv, fuzzConfigFile)
}
