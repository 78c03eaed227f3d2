extension Hub {
    /// Runs `body` on the hub and returns its result. The caller suspends;
    /// no thread blocks.
    ///
    /// - Throws: `HubError.shutDown` if the hub is shut down, or what `body` throws.
    public func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        guard !isShutDown else { throw HubError.shutDown(hub: name) }
        return try await withTaskExecutorPreference(self, isolation: nil) {
            try await body()
        }
    }

    /// Starts a task on the hub. It runs on the hub thread and stays there
    /// across suspensions; its child tasks inherit the hub.
    ///
    /// After `shutdown()` the task throws `HubError.shutDown` without running `body`.
    @discardableResult
    public func spawn<T: Sendable>(
        priority: TaskPriority? = nil,
        _ body: @escaping @Sendable () async throws -> T
    ) -> Task<T, any Error> {
        Task(executorPreference: self, priority: priority) { [self] in
            guard !isShutDown else { throw HubError.shutDown(hub: name) }
            return try await body()
        }
    }
}

/// A `SerialExecutor` that runs jobs on a hub's thread, so an actor can be
/// pinned to a hub.
///
/// ```swift
/// actor Counter {
///     let hub: Hub
///     nonisolated var unownedExecutor: UnownedSerialExecutor {
///         hub.serialExecutor.asUnownedSerialExecutor()
///     }
/// }
/// ```
public final class HubSerialExecutor: SerialExecutor, @unchecked Sendable {
    /// The hub whose thread runs this executor's jobs.
    public unowned let hub: Hub

    init(hub: Hub) { self.hub = hub }

    /// Enqueues an actor job on the hub.
    public func enqueue(_ job: consuming ExecutorJob) {
        hub.enqueue(QueuedJob(job: UnownedJob(job), isolated: true))
    }

    /// Traps unless called on the hub's thread (backs `assumeIsolated`).
    public func checkIsolated() {
        precondition(hub.isCurrent, "not on the thread of hub '\(hub.name)'")
    }
}
