import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The open descriptors of the process (/proc/self/fd) and what each refers
/// to ("socket:[123]", "pipe:[45]"), not counting the one used to list them.
public struct DescriptorCensus: Sendable {
    /// What each descriptor refers to, by number ("?" if it closed meanwhile).
    public let targets: [Int32: String]
    /// How many descriptors were open.
    public var count: Int { targets.count }

    /// Lists the descriptors open now.
    public static func take() -> DescriptorCensus {
        var targets: [Int32: String] = [:]
        guard let directory = opendir("/proc/self/fd") else { return DescriptorCensus(targets: [:]) }
        defer { closedir(directory) }
        let own = dirfd(directory)
        while let entry = readdir(directory) {
            let name = directoryEntryName(entry)
            guard let fd = Int32(name), fd != own else { continue }
            var buffer = [CChar](repeating: 0, count: 256)
            let length = readlink("/proc/self/fd/\(name)", &buffer, buffer.count - 1)
            targets[fd] = length > 0 ? String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?"
        }
        return DescriptorCensus(targets: targets)
    }
}

/// The process's descriptors against `before`, waiting up to 10 seconds for
/// closes still under way: other tests running in parallel open and close
/// their own, so a margin is allowed, far below what a leak per iteration
/// of a race loop would add.
public func expectDescriptorsBack(to before: DescriptorCensus, margin: Int = 64,
                                  sourceLocation: SourceLocation = #_sourceLocation) async throws {
    var now = DescriptorCensus.take()
    _ = await poll {
        now = DescriptorCensus.take()
        return now.count <= before.count + margin
    }
    #expect(now.count <= before.count + margin, "descriptors: \(before.count) before, \(now.count) after",
            sourceLocation: sourceLocation)
}
