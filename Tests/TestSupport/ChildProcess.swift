import EvergreenHub
#if canImport(Glibc)
import Glibc
#endif

/// Waits for child `pid` to end (blocking the thread: call it off the
/// cooperative pool) and returns its exit status, 128 + the signal for a
/// child killed by one, or -1 when it cannot be waited for.
public func childExitStatus(_ pid: pid_t) -> Int32 {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 {
        guard errno == EINTR else { return -1 }
    }
    let signal = status & 0x7f
    return signal == 0 ? (status >> 8) & 0xff : 128 + signal
}

/// The whole of the file at `path`, as UTF-8 text (a child's captured output).
public func readWholeFile(_ path: String) throws -> String {
    guard let file = fopen(path, "r") else { throw SystemError.lastError() }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let count = fread(&chunk, 1, chunk.count, file)
        if count <= 0 { break }
        bytes += chunk[..<count]
    }
    return String(decoding: bytes, as: UTF8.self)
}
