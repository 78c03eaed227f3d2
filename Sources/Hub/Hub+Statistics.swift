import CLibev

extension Hub {
    /// Counts for leak checks and soak tests.
    public struct Statistics: Sendable, Equatable {
        /// Waiters handed out and not yet returned: tasks suspended in (or
        /// about to enter) a hub wait.
        public var pendingWaits: Int
        /// libev watchers started for waits and callbacks.
        public var activeWatchers: Int
        /// Jobs waiting in the run queue.
        public var queuedJobs: Int
        /// Jobs enqueued since the hub started.
        public var jobsEnqueued: Int
        /// Times another thread woke the loop (`ev_async_send`).
        public var loopWakeups: Int
    }

    /// Reads the counts on the hub thread.
    public func statistics() async throws -> Statistics {
        try await run { [self] in
            var watchers = counters.callbackWatchers.load(ordering: .relaxed)
            for waiter in waiters.all {
                if evg_is_active(waiter.io) != 0 { watchers += 1 }
                if evg_is_active(waiter.timer) != 0 { watchers += 1 }
            }
            return Statistics(pendingWaits: waiters.live, activeWatchers: watchers,
                              queuedJobs: runQueue.count,
                              jobsEnqueued: jobsEnqueuedHere + counters.jobs.load(ordering: .relaxed),
                              loopWakeups: counters.wakeups.load(ordering: .relaxed))
        }
    }

    /// Counts a persistent callback watcher started (+1) or stopped (-1).
    func countCallbackWatcher(_ delta: Int) {
        counters.callbackWatchers.add(delta, ordering: .relaxed)
    }
}
