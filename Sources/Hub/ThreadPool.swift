import CLibev
#if canImport(Glibc)
import Glibc
#endif

/// A fixed-size pool of threads for blocking work whose results are delivered
/// back onto the calling task's hub.
///
/// Threads start lazily, up to `threads`, and never more. Work waits in a
/// bounded queue. A task cancelled (or timed out) while its work is queued or
/// running returns at once; queued work is then skipped, running work finishes
/// in the background and its result is dropped.
public final class ThreadPool: @unchecked Sendable {
    /// The most threads the pool runs.
    public let threads: Int
    /// The most work items that may wait for a thread; beyond it `run` throws
    /// `HubError.saturated`.
    public let queueLimit: Int
    /// Names the threads.
    public let name: String

    private let lock = Lock()
    private let workAvailable = Condition()
    private var queue: [WorkItem] = []
    private var queueHead = 0
    private var started = 0
    private var idle = 0
    private var running = 0
    private var isShutDown = false
    private var threadIDs: [pthread_t] = []

    /// A queued piece of work; `claim` decides whether it runs or was abandoned.
    final class WorkItem: @unchecked Sendable {
        let body: @Sendable () -> Void
        let fail: @Sendable (any Error) -> Void
        private let lock = Lock()
        private var state = 0  // 0 queued, 1 running or done, 2 abandoned

        init(run body: @escaping @Sendable () -> Void, fail: @escaping @Sendable (any Error) -> Void) {
            self.body = body
            self.fail = fail
        }

        /// Marks the work as started; false if it was abandoned first.
        func claim() -> Bool { lock.withLock { state == 0 ? { state = 1; return true }() : false } }
        /// Marks queued work abandoned; false if it already started.
        func abandon() -> Bool { lock.withLock { state == 0 ? { state = 2; return true }() : false } }
    }

    /// Makes a pool.
    ///
    /// - Parameters:
    ///   - threads: the most threads (at least 1).
    ///   - queueLimit: the most queued items (at least 1).
    ///   - name: thread name prefix.
    public init(threads: Int, queueLimit: Int = 100_000, name: String = "pool") {
        self.threads = max(1, threads)
        self.queueLimit = max(1, queueLimit)
        self.name = name
    }

    /// Work items queued and not yet started.
    public var queuedCount: Int { lock.withLock { queue.count - queueHead } }
    /// Threads started so far.
    public var threadCount: Int { lock.withLock { started } }
    /// Work items running now.
    public var runningCount: Int { lock.withLock { running } }

    /// Runs `work` on a pool thread and returns its result on the caller's
    /// hub (the current hub, else `Hub.default`).
    ///
    /// - Throws: what `work` throws; `CancellationError` at once if the task
    ///   is cancelled; `TimeoutError` if `timeout` or an enclosing
    ///   `withTimeout` scope passes; `HubError.saturated` if the queue is
    ///   full; `HubError.shutDown` after `shutdown()`.
    public func run<T: Sendable>(timeout: Duration? = nil, _ work: @escaping @Sendable () throws -> T) async throws -> T {
        let itemBox = ItemBox()
        return try await withHubContinuation(timeout: timeout, onCancel: { itemBox.abandon() }) { (continuation: HubContinuation<T>) in
            let item = WorkItem(
                run: { continuation.resume(with: Result { try work() }) },
                fail: { continuation.resume(throwing: $0) }
            )
            itemBox.item = item
            try submit(item)
        }
    }

    /// Holds the submitted item so cancellation can abandon it.
    private final class ItemBox: @unchecked Sendable {
        var item: WorkItem?
        func abandon() { _ = item?.abandon() }
    }

    /// Queues `item`, starting a thread if none is idle.
    func submit(_ item: WorkItem) throws {
        lock.lock()
        defer { lock.unlock() }
        guard !isShutDown else { throw HubError.shutDown(hub: name) }
        guard queue.count - queueHead < queueLimit else {
            throw HubError.saturated(what: "thread pool '\(name)' queue", limit: queueLimit)
        }
        queue.append(item)
        if idle > 0 {
            workAvailable.signal()
        } else if started < threads {
            started += 1
            startThread()
        }
    }

    private func startThread() {
        let retained = Unmanaged.passRetained(self).toOpaque()
        var tid = pthread_t()
        let rc = pthread_create(&tid, nil, { arg in
            let pool = Unmanaged<ThreadPool>.fromOpaque(arg!).takeRetainedValue()
            pool.threadMain()
            return nil
        }, retained)
        if rc == 0 {
            threadIDs.append(tid)
        } else {
            started -= 1
            Unmanaged<ThreadPool>.fromOpaque(retained).release()
        }
    }

    private func threadMain() {
        evg_set_thread_name(name)
        lock.lock()
        while true {
            if queueHead < queue.count {
                let item = queue[queueHead]
                queueHead += 1
                if queueHead > 1024 && queueHead * 2 > queue.count {
                    queue.removeFirst(queueHead)
                    queueHead = 0
                }
                guard item.claim() else { continue }
                running += 1
                lock.unlock()
                item.body()
                lock.lock()
                running -= 1
                continue
            }
            if isShutDown { break }
            idle += 1
            workAvailable.wait(lock)
            idle -= 1
        }
        lock.unlock()
    }

    /// Stops the pool: queued work that has not started fails with
    /// `HubError.shutDown` (its tasks wake), running work finishes, threads
    /// exit and are joined. Idempotent. Must not be called from a pool thread.
    public func shutdown() {
        lock.lock()
        if isShutDown {
            lock.unlock()
            return
        }
        isShutDown = true
        let pending = Array(queue[queueHead...])
        queue.removeAll()
        queueHead = 0
        let ids = threadIDs
        threadIDs.removeAll()
        workAvailable.broadcast()
        lock.unlock()
        let error = HubError.shutDown(hub: name)
        for item in pending where item.claim() {
            item.fail(error)
        }
        for id in ids { pthread_join(id, nil) }
    }
}
