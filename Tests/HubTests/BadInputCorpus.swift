import EvergreenHub
import Foundation
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `Fixtures/bad-input/hub.json`: bad descriptors, event sets and durations
/// for the wait API (see that file's `about`).
struct HubBadInput: Decodable {
    /// A descriptor that no wait may accept.
    struct Descriptor: Decodable, Sendable, CustomTestStringConvertible {
        let id: String
        let fd: Int32?
        /// `closed`, `never-opened` or `beyond-limit`: made at test time.
        let make: String?
        let message: String
        var testDescription: String { id }

        /// The descriptor number; one made here is never open.
        func number() throws -> Int32 {
            if let fd { return fd }
            switch make {
            case "closed": return try BadDescriptors.closed()
            case "never-opened": return try BadDescriptors.neverOpened()
            case "beyond-limit": return BadDescriptors.beyondLimit()
            default: throw BadInputCorpusError("unknown descriptor maker '\(make ?? "nil")' in case \(id)")
            }
        }
    }

    /// An event set an io watcher must refuse.
    struct Events: Decodable, Sendable, CustomTestStringConvertible {
        let id: String
        let raw: Int32
        let message: String
        var testDescription: String { id }
    }

    /// A timeout: refused with `message`, or `accepted`.
    struct Timeout: Decodable, Sendable, CustomTestStringConvertible {
        let id: String
        let seconds: Int64?
        let attoseconds: Int64?
        let message: String?
        let accepted: String?
        /// An accepted timeout that may still run out (zero: a poll).
        let mayTimeOut: Bool?
        var testDescription: String { id }
        var duration: Duration { Duration(secondsComponent: seconds ?? 0, attosecondsComponent: attoseconds ?? 0) }
    }

    let descriptors: [Descriptor]
    let events: [Events]
    let durations: [Timeout]

    /// The corpus, read once.
    static let corpus: HubBadInput = {
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: badInputFixture("hub.json")))
            return try JSONDecoder().decode(HubBadInput.self, from: data)
        } catch {
            fatalError("cannot read Fixtures/bad-input/hub.json: \(error)")
        }
    }()
}

/// `Fixtures/bad-input/<name>`.
func badInputFixture(_ name: String) -> String {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/bad-input/\(name)").path
}

/// A corpus file that does not say what the test needs.
struct BadInputCorpusError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Descriptor numbers that are not open, chosen so that tests running at the
/// same time (which get the lowest free numbers) never reuse them.
enum BadDescriptors {
    /// A pipe end copied to a high number of its own (one per call, so two
    /// tests never share it), then closed.
    static func closed() throws -> Int32 {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw SystemError.lastError() }
        defer { _ = Glibc.close(fds[0]); _ = Glibc.close(fds[1]) }
        let base = Int32(clamping: min(softLimit() / 2, 5_000))
        while true {
            let number = base + Int32(nextClosed.add(1, ordering: .relaxed).oldValue % 1_000)
            guard fcntl(number, F_GETFD) == -1 else { continue }
            guard dup2(fds[0], number) == number else { throw SystemError.lastError() }
            _ = Glibc.close(number)
            return number
        }
    }

    private static let nextClosed = Atomic<Int>(0)

    /// A high number below the limit that is not open.
    static func neverOpened() throws -> Int32 {
        let limit = Int32(clamping: softLimit())
        for fd in stride(from: min(limit - 1, 4_000), to: 3, by: -1) where fcntl(fd, F_GETFD) == -1 {
            return fd
        }
        throw BadInputCorpusError("no free descriptor number below \(limit)")
    }

    /// RLIMIT_NOFILE itself: no descriptor can have that number.
    static func beyondLimit() -> Int32 { Int32(clamping: softLimit()) }

    private static func softLimit() -> UInt64 {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        return UInt64(limit.rlim_cur)
    }
}

/// A call that was still waiting after 5 seconds.
struct Hung: Error, CustomStringConvertible {
    var description: String { "hung: still waiting after 5 seconds" }
}

/// What `body` threw, or nil (and a recorded issue) if it returned; `Hung`
/// if it was still waiting after 5 seconds.
func thrownError(_ what: String, sourceLocation: SourceLocation = #_sourceLocation,
                 _ body: () async throws -> Void) async -> (any Error)? {
    do {
        try await withTimeout(.seconds(5), throwing: Hung()) { try await body() }
        Issue.record("\(what): returned instead of throwing", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}
