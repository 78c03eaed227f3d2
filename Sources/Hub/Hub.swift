import CLibev
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// An event loop (libev, epoll) on its own thread, and a Swift `TaskExecutor`
/// that runs tasks on that thread.
///
/// Tasks started with `Task(executorPreference: hub)`, `hub.spawn { }`, or
/// inside `withTaskExecutorPreference(hub)` run on the hub's thread and stay
/// there across every suspension. An operation that would block registers a
/// libev watcher and suspends only the calling task; the watcher's callback
/// resumes it.
///
/// ```swift
/// let hub = Hub(name: "io")
/// let n = try await hub.run { try await waitRead(fd); return read(fd) }
/// hub.shutdown()
/// ```
public final class Hub: TaskExecutor, @unchecked Sendable {
    /// The process-wide hub, made on first use and never shut down implicitly.
    public static let `default` = Hub(name: "default")

    /// The hub whose thread runs the caller, or nil off every hub thread.
    public static var current: Hub? {
        guard let raw = evg_current_hub() else { return nil }
        return Unmanaged<Hub>.fromOpaque(raw).takeUnretainedValue()
    }

    /// The hub's name, used in errors and thread names.
    public let name: String

    /// The hub's pool of threads for blocking work.
    public let threadPool: ThreadPool

    /// A `SerialExecutor` that runs on this hub, to pin an actor to it:
    /// `nonisolated var unownedExecutor: UnownedSerialExecutor { hub.serialExecutor.asUnownedSerialExecutor() }`.
    public private(set) lazy var serialExecutor: HubSerialExecutor = HubSerialExecutor(hub: self)

    // MARK: Loop-thread state (touched only on the hub thread)
    // Only the hub's thread touches these, so the runtime's exclusivity
    // checks (a thread-local lookup per access on the hot path) are off.

    let loop: OpaquePointer
    @exclusivity(unchecked) var runQueue = RunQueue()
    @exclusivity(unchecked) var waiters = WaiterPool()
    /// Set on the hub thread when shutdown begins: new waits fail at once.
    @exclusivity(unchecked) var closing = false
    /// Waits armed since the last poll whose descriptor libev will register
    /// with epoll (see `checkDescriptors`).
    @exclusivity(unchecked) var descriptorChecks: [WaiterRef] = []
    /// Whether the job running now is an actor's (serial-executor) job: code
    /// in it resumes on the actor, not necessarily on the hub, after a wait.
    @exclusivity(unchecked) var runningIsolatedJob = false
    /// Jobs enqueued from the hub thread itself (those from other threads
    /// are counted in `counters`): no atomic on the hot path.
    @exclusivity(unchecked) var jobsEnqueuedHere = 0
    var shutdownHooks: [() -> Void] = []
    var unownedExecutorForTasks: UnownedTaskExecutor!
    private var unownedSerial: UnownedSerialExecutor!
    private let asyncWatcher = UnsafeMutablePointer<ev_async>.allocate(capacity: 1)
    private let prepareWatcher = UnsafeMutablePointer<ev_prepare>.allocate(capacity: 1)
    private let idleWatcher = UnsafeMutablePointer<ev_idle>.allocate(capacity: 1)
    /// How long one pass over the run queue may take before I/O gets a turn.
    private let runQueueBudgetNanoseconds: UInt64 = 5_000_000

    // MARK: Cross-thread state

    enum State: Int { case running = 0, closing = 1, stopped = 2 }
    let state = Atomic<Int>(State.running.rawValue)
    let inboxLock = Lock()
    private var inbox: [InboxItem] = []
    private let inboxNonEmpty = Atomic<Bool>(false)
    let stoppedCondition = Condition()
    var thread: pthread_t?
    var threadJoined = false
    /// Set once `pthread_join` has returned: a second `shutdown()` waits for it.
    var joinCompleted = false
    var stoppedFlag = false
    let counters = HubCounters()
    let storage = HubValueStore()

    enum InboxItem {
        case job(QueuedJob)
        case cancel(WaiterRef)
        case complete(WaiterRef, code: Int32)
        case fail(WaiterRef, any Error)
        case call(@Sendable () -> Void)
        case shutdown
    }

    /// Starts a hub: a new libev loop and the thread that runs it.
    ///
    /// - Parameters:
    ///   - name: names the thread and appears in errors.
    ///   - threadPoolSize: threads in `threadPool` (at least 1).
    public convenience init(name: String = "hub", threadPoolSize: Int = 10) {
        self.init(name: name, threadPoolSize: threadPoolSize, startsThread: true)
    }

    /// A hub whose loop runs on its own new thread (`startsThread`), or
    /// later on a thread that calls `runLoop()` (`withCurrentThreadAsHub`).
    init(name: String, threadPoolSize: Int, startsThread: Bool) {
        self.name = name
        self.threadPool = ThreadPool(threads: max(1, threadPoolSize), name: "\(name)-pool")
        guard let loop = evg_loop_new() else { fatalError("libev could not create a loop") }
        self.loop = loop
        self.unownedExecutorForTasks = self.asUnownedTaskExecutor()
        self.unownedSerial = self.serialExecutor.asUnownedSerialExecutor()

        evg_async_init(asyncWatcher, { loop, _, _ in
            // Nothing to do here: the prepare watcher drains the inbox.
            _ = loop
        })
        // One drain per iteration, before the poll: it runs the tasks the
        // previous iteration's callbacks resumed (a check watcher would do
        // the same work one step earlier, at the cost of a second watcher
        // invocation per iteration).
        evg_prepare_init(prepareWatcher, { _, watcher, _ in
            let hub = Unmanaged<Hub>.fromOpaque(evg_get_data(watcher)!).takeUnretainedValue()
            hub.drain()
            // Last thing before libev hands descriptor changes to epoll.
            hub.checkDescriptors()
        })
        evg_idle_init(idleWatcher, { _, _, _ in })
        let me = Unmanaged.passUnretained(self).toOpaque()
        evg_set_data(prepareWatcher, me)
        waiters.owner = me
        ev_async_start(loop, asyncWatcher)
        ev_prepare_start(loop, prepareWatcher)
        if startsThread { startThread() }
    }

    deinit {
        // A hub's thread holds it strongly until it stops, so this runs only
        // after the loop ended.
        waiters.destroy()
        ev_loop_destroy(loop)
        asyncWatcher.deallocate()
        prepareWatcher.deallocate()
        idleWatcher.deallocate()
    }

    // MARK: Thread

    private func startThread() {
        let retained = Unmanaged.passRetained(self).toOpaque()
        var tid = pthread_t()
        let rc = pthread_create(&tid, nil, { arg in
            let hub = Unmanaged<Hub>.fromOpaque(arg!).takeRetainedValue()
            hub.threadMain()
            return nil
        }, retained)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        thread = tid
    }

    private func threadMain() {
        evg_set_thread_name("evg-\(name)")
        runLoop()
    }

    /// Runs the loop on the calling thread, which is the hub's thread until
    /// the loop stops (after `shutdown()`), then hands on what is left.
    func runLoop() {
        evg_set_current_hub(Unmanaged.passUnretained(self).toOpaque())
        ev_run(loop, 0)
        // The loop ended: anything enqueued from now on goes to the global
        // executor (never dropped, so no task is left hanging).
        let leftovers: [InboxItem] = inboxLock.withLock {
            state.store(State.stopped.rawValue, ordering: .releasing)
            let items = inbox
            inbox.removeAll()
            return items
        }
        // Closures handed over after the loop's last pass still run, here on
        // its thread: `execute` never drops one (a close, a shutdown hook).
        for item in leftovers { if case .call(let body) = item { body() } }
        var jobs: [QueuedJob] = []
        while let job = runQueue.pop() { jobs.append(job) }
        for item in leftovers { if case .job(let job) = item { jobs.append(job) } }
        evg_set_current_hub(nil)
        for job in jobs { globalConcurrentExecutor.enqueue(job.job) }
        inboxLock.withLock {
            stoppedFlag = true
            stoppedCondition.broadcast()
        }
        // Stored values may hold this hub (an `AresResolver` does): kept,
        // they would keep it, its loop and its descriptors alive forever.
        // Nothing runs here any more, so let them go (before the join).
        storage.removeAll()
    }

    /// Whether the calling code runs on this hub's thread.
    @inline(__always)
    public var isCurrent: Bool {
        evg_current_hub() == Unmanaged.passUnretained(self).toOpaque()
    }

    /// Whether `shutdown()` has been called.
    public var isShutDown: Bool { state.load(ordering: .acquiring) != State.running.rawValue }

    // MARK: Executor

    /// Enqueues a task job. From the hub's own thread this is a plain queue
    /// push with no wake-up; from another thread it wakes the loop.
    public func enqueue(_ job: consuming ExecutorJob) {
        enqueue(QueuedJob(job: UnownedJob(job), isolated: false))
    }

    @inline(__always)
    func enqueue(_ item: QueuedJob) {
        if isCurrent {
            jobsEnqueuedHere &+= 1
            runQueue.push(item)
        } else {
            counters.jobs.add(1, ordering: .relaxed)
            post(.job(item))
        }
    }

    /// Hands an item to the hub thread and wakes the loop. After the loop
    /// has stopped, jobs go to the global executor and the rest is dropped
    /// (their waiters were already woken by shutdown).
    func post(_ item: InboxItem) {
        inboxLock.lock()
        if state.load(ordering: .relaxed) == State.stopped.rawValue {
            inboxLock.unlock()
            switch item {
            case .job(let job): globalConcurrentExecutor.enqueue(job.job)
            // No loop thread is left to run it, and nothing else runs on
            // one: run it here rather than drop it (a late shutdown hook).
            case .call(let body): body()
            case .cancel, .complete, .fail, .shutdown: break  // shutdown already woke every waiter
            }
            return
        }
        inbox.append(item)
        inboxNonEmpty.store(true, ordering: .releasing)
        inboxLock.unlock()
        counters.wakeups.add(1, ordering: .relaxed)
        ev_async_send(loop, asyncWatcher)
    }

    /// Runs `body` on the hub thread: at once when already there, otherwise
    /// soon, from the loop. After the hub has stopped, on the calling thread.
    public func execute(_ body: @escaping @Sendable () -> Void) {
        if isCurrent { body() } else { post(.call(body)) }
    }

    /// Runs queued work: the inbox, then the run queue for at most the
    /// budget. If work remains, an idle watcher keeps the loop from blocking.
    private func drain() {
        if inboxNonEmpty.load(ordering: .acquiring) { takeInbox() }
        if runQueue.isEmpty {
            finishPass()
            return
        }
        // The clock is read only once the pass is long enough to matter.
        var start: UInt64 = 0
        var ran = 0
        while let item = runQueue.pop() {
            if item.isolated {
                runningIsolatedJob = true
                item.job.runSynchronously(isolatedTo: unownedSerial, taskExecutor: unownedExecutorForTasks)
                runningIsolatedJob = false
            } else {
                item.job.runSynchronously(on: unownedExecutorForTasks)
            }
            ran &+= 1
            if ran & 31 == 0 {
                if inboxNonEmpty.load(ordering: .acquiring) { takeInbox() }
                let now = evg_monotonic_ns()
                if start == 0 {
                    start = now
                } else if now &- start > runQueueBudgetNanoseconds {
                    break
                }
            }
        }
        finishPass()
    }

    func finishPass() {
        if runQueue.isEmpty {
            if evg_is_active(idleWatcher) != 0 { ev_idle_stop(loop, idleWatcher) }
            if closing && !inboxNonEmpty.load(ordering: .acquiring) && waiters.live == 0 {
                ev_break(loop, Int32(EVBREAK_ALL))
            }
        } else if evg_is_active(idleWatcher) == 0 {
            ev_idle_start(loop, idleWatcher)
        }
    }

    private func takeInbox() {
        inboxLock.lock()
        let items = inbox
        inbox.removeAll(keepingCapacity: true)
        inboxNonEmpty.store(false, ordering: .relaxed)
        inboxLock.unlock()
        for item in items {
            switch item {
            case .job(let job): runQueue.push(job)
            case .cancel(let ref): handleCancel(ref)
            case .complete(let ref, let code): handleComplete(ref, code: code)
            case .fail(let ref, let error): handleFail(ref, error: error)
            case .call(let body): body()
            case .shutdown: beginShutdown()
            }
        }
    }

    // MARK: Waiter plumbing (hub thread)

    func handleCancel(_ ref: WaiterRef) {
        guard ref.isCurrent else { return }
        switch ref.pointer.pointee.phase {
        case .preparing: ref.pointer.pointee.cancelRequested = true
        case .waiting: finishWaiter(ref.pointer, loop: loop, code: WaitCode.cancelled)
        case .idle, .finished: break
        }
    }

    func handleComplete(_ ref: WaiterRef, code: Int32) {
        guard ref.isCurrent, ref.pointer.pointee.phase == .waiting else { return }
        finishWaiter(ref.pointer, loop: loop, code: code)
    }

    func handleFail(_ ref: WaiterRef, error: any Error) {
        guard ref.isCurrent, ref.pointer.pointee.phase == .waiting else { return }
        ref.pointer.pointee.error = error
        finishWaiter(ref.pointer, loop: loop, code: WaitCode.failed)
    }

    /// Asks for the waiter to be cancelled; safe from any thread.
    func requestCancel(_ ref: WaiterRef) {
        if isCurrent { handleCancel(ref) } else { post(.cancel(ref)) }
    }

    /// Completes an external wait; safe from any thread.
    func complete(_ ref: WaiterRef, code: Int32 = WaitCode.completed) {
        if isCurrent { handleComplete(ref, code: code) } else { post(.complete(ref, code: code)) }
    }

    /// Wakes a waiter with `error`; safe from any thread.
    func fail(_ ref: WaiterRef, error: any Error) {
        if isCurrent { handleFail(ref, error: error) } else { post(.fail(ref, error)) }
    }

}

/// Counters shared across threads.
final class HubCounters: Sendable {
    let jobs = Atomic<Int>(0)
    let callbackWatchers = Atomic<Int>(0)
    let wakeups = Atomic<Int>(0)
}
