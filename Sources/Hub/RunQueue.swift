/// A job waiting to run on the hub, and how to run it.
struct QueuedJob {
    let job: UnownedJob
    /// Enqueued through the hub's `SerialExecutor` facade (an actor's job):
    /// it must run isolated to that executor. Task jobs run on the task
    /// executor alone, so nonisolated calls inside them need no re-enqueue.
    let isolated: Bool
}

/// The hub thread's FIFO of jobs: a growable ring buffer touched only by the
/// hub thread, so it needs no lock.
struct RunQueue: ~Copyable {
    private var storage: UnsafeMutablePointer<QueuedJob>
    private var capacity: Int
    private var head = 0
    private(set) var count = 0

    init(capacity: Int = 256) {
        precondition(capacity > 0 && capacity & (capacity - 1) == 0)
        self.capacity = capacity
        storage = .allocate(capacity: capacity)
    }

    deinit {
        storage.deinitialize(count: 0)
        storage.deallocate()
    }

    var isEmpty: Bool { count == 0 }

    @inline(__always)
    mutating func push(_ item: QueuedJob) {
        if count == capacity { grow() }
        (storage + ((head + count) & (capacity - 1))).initialize(to: item)
        count += 1
    }

    @inline(__always)
    mutating func pop() -> QueuedJob? {
        guard count > 0 else { return nil }
        let item = (storage + head).move()
        head = (head + 1) & (capacity - 1)
        count -= 1
        return item
    }

    private mutating func grow() {
        let newCapacity = capacity * 2
        let newStorage = UnsafeMutablePointer<QueuedJob>.allocate(capacity: newCapacity)
        for i in 0..<count {
            (newStorage + i).initialize(to: (storage + ((head + i) & (capacity - 1))).move())
        }
        storage.deallocate()
        storage = newStorage
        capacity = newCapacity
        head = 0
    }
}
