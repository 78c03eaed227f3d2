#if canImport(Glibc)
import Glibc
#endif

/// The names of the process's threads (`/proc/self/task/*/comm`).
public func threadNames() -> [String] {
    guard let directory = opendir("/proc/self/task") else { return [] }
    defer { closedir(directory) }
    var names: [String] = []
    while let entry = readdir(directory) {
        let tid = directoryEntryName(entry)
        guard Int(tid) != nil, let file = fopen("/proc/self/task/\(tid)/comm", "r") else { continue }
        var buffer = [CChar](repeating: 0, count: 64)
        if fgets(&buffer, Int32(buffer.count), file) != nil {
            names.append(String(decoding: buffer.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        fclose(file)
    }
    return names
}

/// The threads still running of the hubs named `hubs`: each hub's thread
/// ("evg-<name>") and its pool's ("<name>-pool"), cut to the 15 bytes the
/// kernel keeps of a thread name.
///
/// `pthread_join` returns once the kernel clears the thread's id, a moment
/// before it drops the thread from /proc/self/task, so a thread joined just
/// now may still be listed: this waits up to `grace` for the list to empty
/// and returns what is left then.
public func threadsStillRunning(ofHubs hubs: [String], grace: Duration = .seconds(10)) async -> [String] {
    var left: [String] = []
    _ = await poll(for: grace) {
        left = threadNames().filter { thread in
            hubs.contains { thread == String("evg-\($0)".prefix(15)) || thread == String("\($0)-pool".prefix(15)) }
        }
        return left.isEmpty
    }
    return left
}
