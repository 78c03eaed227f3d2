import EvergreenHub
import Testing
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A non-blocking pipe closed by `close()`.
struct TestPipe: Sendable {
    let readEnd: Int32
    let writeEnd: Int32

    init() throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw SystemError.lastError() }
        for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        readEnd = fds[0]
        writeEnd = fds[1]
    }

    func put(_ byte: UInt8 = 7) {
        var byte = byte
        _ = write(writeEnd, &byte, 1)
    }

    func take() -> UInt8? {
        var byte: UInt8 = 0
        return read(readEnd, &byte, 1) == 1 ? byte : nil
    }

    func close() {
        _ = Glibc.close(readEnd)
        _ = Glibc.close(writeEnd)
    }
}

/// Waits until `condition` holds, yielding to the hub in between; fails
/// the test after `limit` tries instead of hanging.
func eventually(_ limit: Int = 1_000_000, _ condition: () async throws -> Bool, sourceLocation: SourceLocation = #_sourceLocation) async rethrows {
    for _ in 0..<limit {
        if try await condition() { return }
        await Task.yield()
    }
    Issue.record("condition never held", sourceLocation: sourceLocation)
}

let testHub = Hub(name: "tests")

/// A boolean set once, readable from any thread.
final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
}
