@_exported import CLibFuzzer
import Resolvers
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A fuzzer's test function, as libFuzzer calls it.
public typealias FuzzTestOneInput = @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32

/// Runs libFuzzer's driver with the process's arguments and `test`. Each
/// fuzzer's `<Target>_main` (the name SwiftPM links as `main`) calls this.
public func runFuzzer(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                      _ test: FuzzTestOneInput) -> Int32 {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, test)
}

/// The input as a Swift string (invalid UTF-8 becomes U+FFFD, as it would
/// coming from any Swift caller).
public func fuzzText(_ data: UnsafePointer<UInt8>?, _ size: Int) -> String {
    String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
}

/// Reports a broken invariant, once per place in the code, as a line
/// `FINDING [file:line] message` on standard error, and lets the run go on:
/// a crash would stop libFuzzer at the first (often already known) problem.
/// Memory errors still stop it (AddressSanitizer). scripts/fuzz.sh counts
/// these lines; the message holds the input, to make a test case of it.
public func finding(_ message: @autoclosure () -> String, file: StaticString = #fileID, line: UInt = #line) {
    let place = "\(file):\(line)"
    guard reported.withLock({ $0.insert(place).inserted }) else { return }
    let text = "FINDING [\(place)] \(message())\n"
    text.utf8CString.withUnsafeBufferPointer { _ = write(2, $0.baseAddress!, $0.count - 1) }
}

private let reported = Mutex<Set<String>>([])

/// Checks an error a parser threw: the type it documents, and a message a
/// person can read (not empty, no raw NUL, not a reflection dump).
public func checkError<E: Error>(_ error: any Error, is type: E.Type, input: String,
                                 file: StaticString = #fileID, line: UInt = #line) {
    guard error is E else {
        finding("\(input.debugDescription): threw \(Swift.type(of: error)): \(error)", file: file, line: line)
        return
    }
    let text = "\(error)"
    if text.isEmpty || text.utf8.contains(0) || text.hasPrefix("\(E.self)(") {
        finding("\(input.debugDescription): unclear message \(text.debugDescription)", file: file, line: line)
    }
}
