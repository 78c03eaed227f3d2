import CLibev
#if canImport(Glibc)
import Glibc
#endif

extension Hub {
    /// Starts a hub, throwing instead of stopping the process when the
    /// system cannot give it what its loop needs.
    ///
    /// A loop needs two descriptors (an epoll instance and an eventfd to
    /// wake it). libev aborts the process when it cannot create them, and
    /// `init(name:threadPoolSize:)` cannot throw, so this checks first: with
    /// every descriptor in use (`EMFILE`) it throws a `SystemError` naming
    /// the hub. The check and the start are not atomic: a descriptor taken
    /// by another thread in between can still fail the start. Threads are
    /// not checked: a failing `pthread_create` still stops the process.
    ///
    /// - Throws: `SystemError` (EMFILE, ENFILE, ENOMEM) when the loop's
    ///   descriptors cannot be created.
    public static func make(name: String = "hub", threadPoolSize: Int = 10) throws -> Hub {
        try checkLoopResources(name: name)
        return Hub(name: name, threadPoolSize: threadPoolSize)
    }

    /// Creates and closes the descriptors a loop will create.
    static func checkLoopResources(name: String) throws(SystemError) {
        let code = evg_probe_loop_descriptors()
        if code != 0 { throw cannotStart(name, code) }
    }

    private static func cannotStart(_ name: String, _ code: Int32) -> SystemError {
        SystemError(code: code, message: "cannot start hub '\(name)': \(String(cString: strerror(code)))")
    }
}
