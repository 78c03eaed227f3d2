import CLibev

extension Hub {
    /// Makes the calling thread a hub's thread: runs `body` in a task on a
    /// new hub whose loop runs right here, and returns `body`'s result once
    /// the hub has stopped. gevent's hub works this way (in the main thread
    /// of a process that need have no other), as does SwiftNIO's
    /// `MultiThreadedEventLoopGroup.withCurrentThreadAsEventLoop`.
    ///
    /// ```swift
    /// @main enum Server {
    ///     static func main() throws {
    ///         try Hub.withCurrentThreadAsHub { hub in try await serve(on: hub) }
    ///     }
    /// }
    /// ```
    ///
    /// Why: a process whose hub runs in its only thread pays less per
    /// system call than one with a hub thread beside a waiting main thread.
    /// Linux counts references to a shared descriptor table on every
    /// `read`, `write` and `epoll_wait`, and glibc switches cancellation on
    /// and off around each, once a process has a second thread. No other
    /// thread starts unless asked for: the thread pool starts its threads on
    /// first use, and Swift's global executor on the first job sent to it.
    ///
    /// When `body` returns or throws, the hub shuts down as `shutdown()`
    /// does: tasks still waiting on it wake with `HubError.shutDown`, what
    /// that wakes runs, and the loop stops. The call blocks the calling
    /// thread throughout, so call it from synchronous code (a `main`), not
    /// from a task.
    ///
    /// - Parameters:
    ///   - name: the hub's name, used in errors (the thread keeps its own name).
    ///   - threadPoolSize: threads in the hub's `threadPool` (at least 1).
    ///   - body: runs in a task that prefers the hub.
    /// - Returns: what `body` returned.
    /// - Throws: what `body` threw; `HubError.invalidArgument` when the
    ///   calling thread already runs a hub; `SystemError` (EMFILE) when the
    ///   loop cannot get its descriptors.
    public static func withCurrentThreadAsHub<Result: Sendable>(
        name: String = "main", threadPoolSize: Int = 10,
        _ body: sending @escaping (Hub) async throws -> Result
    ) throws -> Result {
        if let running = Hub.current {
            throw HubError.invalidArgument(
                "withCurrentThreadAsHub: this thread already runs hub '\(running.name)'")
        }
        try checkLoopResources(name: name)
        let hub = Hub(name: name, threadPoolSize: threadPoolSize, startsThread: false)
        let outcome = OutcomeBox<Result>()
        // The task's first job goes on the run queue, as from the hub's own
        // thread: the loop runs it in its first pass.
        evg_set_current_hub(Unmanaged.passUnretained(hub).toOpaque())
        Task(executorPreference: hub) {
            do {
                outcome.set(.success(try await body(hub)))
            } catch {
                outcome.set(.failure(error))
            }
            hub.shutdown()
        }
        // Returns once the loop has stopped, which only a shutdown does.
        hub.runLoop()
        guard let value = outcome.get() else {
            // Another thread shut the hub down while `body` awaited
            // something that is not a hub wait: the loop is gone, and `body`
            // goes on elsewhere (its jobs go to the global executor).
            throw HubError.shutDown(hub: name)
        }
        return try value.get()
    }
}

/// Carries `body`'s outcome from its task to the caller. Both normally run
/// on the same thread, one after the other; the lock covers a `body` that
/// outlives the loop (see the `guard` above).
private final class OutcomeBox<Value: Sendable>: @unchecked Sendable {
    private let lock = Lock()
    private var value: Result<Value, any Error>?

    func set(_ outcome: Result<Value, any Error>) { lock.withLock { value = outcome } }
    func get() -> Result<Value, any Error>? { lock.withLock { value } }
}
