import CLibev

/// What a suspended wait ended with. Positive values are libev event bits.
enum WaitCode {
    /// The wait's own timeout fired.
    static let timedOut: Int32 = -1
    /// The deadline of an enclosing `withTimeout` scope passed.
    static let scopeExpired: Int32 = -2
    /// The waiting task was cancelled.
    static let cancelled: Int32 = -3
    /// Woken with the error stored in the waiter (`cancelWait`, shutdown).
    static let failed: Int32 = -4
    /// Completed by something outside the loop (thread pool, resolver).
    static let completed: Int32 = -5
    /// The lowest of these codes; libev's EV_ERROR bit makes anything lower.
    static let lowest: Int32 = -5
}

/// One suspended task's state: an io watcher, a timer, and the continuation
/// that either of them (or a cancellation, completion or shutdown) resumes.
/// Waiters live in a per-hub pool and are touched only on the hub thread;
/// their memory is never freed while the hub lives, so a stale reference from
/// a cancellation handler is detected by its generation, never dereferenced
/// into freed memory.
@usableFromInline
struct Waiter {
    enum Phase: UInt8 { case idle, preparing, waiting, finished }

    var io = ev_io()
    var timer = ev_timer()
    var continuation: UnsafeContinuation<Int32, Never>?
    var generation: UInt64 = 0
    var phase: Phase = .idle
    var cancelRequested = false
    var timerIsScope = false
    var scopeID: UInt64 = 0
    /// `ev_iteration` when the io watcher was last stopped: a restart in the
    /// same iteration makes libev issue no epoll_ctl (see `IOWatcher`).
    var stoppedInIteration: UInt32 = .max
    /// Owned by one `IOWatcher` rather than the pool's free list.
    var isDedicated = false
    var error: (any Error)?
    /// The cancellation handler registered on the waiting task during each
    /// wait (`Hub.suspend`); its `owner` is the waiter's hub.
    var cancellation = evg_cancellation()
}

/// A waiter and the generation it had when it was handed out.
@usableFromInline
struct WaiterRef: @unchecked Sendable, Equatable {
    @usableFromInline let pointer: UnsafeMutablePointer<Waiter>
    @usableFromInline let generation: UInt64

    /// The hub that owns the waiter. Unretained: a waiter is used only on
    /// its hub's thread, which holds the hub while it runs.
    var hub: Hub {
        Unmanaged<Hub>.fromOpaque(pointer.pointee.cancellation.owner!).takeUnretainedValue()
    }

    /// The waiter's cancellation handler, for `CancellationRecord`.
    @usableFromInline
    var cancellationHandler: UnsafePointer<evg_cancellation> { UnsafePointer(pointer.cancellation) }

    var isCurrent: Bool { pointer.pointee.generation == generation }
}

extension UnsafeMutablePointer where Pointee == Waiter {
    @inline(__always)
    var io: UnsafeMutablePointer<ev_io> {
        UnsafeMutableRawPointer(self).advanced(by: MemoryLayout<Waiter>.offset(of: \Waiter.io)!)
            .assumingMemoryBound(to: ev_io.self)
    }

    @inline(__always)
    var timer: UnsafeMutablePointer<ev_timer> {
        UnsafeMutableRawPointer(self).advanced(by: MemoryLayout<Waiter>.offset(of: \Waiter.timer)!)
            .assumingMemoryBound(to: ev_timer.self)
    }

    @inline(__always)
    var cancellation: UnsafeMutablePointer<evg_cancellation> {
        UnsafeMutableRawPointer(self).advanced(by: MemoryLayout<Waiter>.offset(of: \Waiter.cancellation)!)
            .assumingMemoryBound(to: evg_cancellation.self)
    }
}

/// A waiter's cancellation handler. It runs on the cancelling thread, under
/// the task's status-record lock, while this wait's record is registered:
/// the generation it reads is the wait's own, and the hub is alive (the
/// waiting task uses it after it resumes).
let waiterCancelled: evg_cancel_fn = { owner, item in
    let hub = Unmanaged<Hub>.fromOpaque(owner!).takeUnretainedValue()
    let waiter = item!.assumingMemoryBound(to: Waiter.self)
    hub.requestCancel(WaiterRef(pointer: waiter, generation: waiter.pointee.generation))
}

private let waiterIOCallback: evg_io_cb = { loop, io, revents in
    let waiter = evg_get_data(io)!.assumingMemoryBound(to: Waiter.self)
    finishWaiter(waiter, loop: loop!, code: revents)
}

private let waiterTimerCallback: evg_timer_cb = { loop, timer, _ in
    let waiter = evg_get_data(timer)!.assumingMemoryBound(to: Waiter.self)
    finishWaiter(waiter, loop: loop!, code: waiter.pointee.timerIsScope ? WaitCode.scopeExpired : WaitCode.timedOut)
}

/// Stops the waiter's watchers and resumes its task with `code`. Hub thread only.
@inline(__always)
func finishWaiter(_ waiter: UnsafeMutablePointer<Waiter>, loop: OpaquePointer, code: Int32) {
    if evg_is_active(waiter.io) != 0 {
        ev_io_stop(loop, waiter.io)
        waiter.pointee.stoppedInIteration = ev_iteration(loop)
    }
    if evg_is_active(waiter.timer) != 0 { ev_timer_stop(loop, waiter.timer) }
    waiter.pointee.phase = .finished
    if let continuation = waiter.pointee.continuation {
        waiter.pointee.continuation = nil
        continuation.resume(returning: code)
    }
}

/// The hub's waiters: a free list over slabs that are never freed while the
/// hub lives. Hub thread only.
struct WaiterPool: ~Copyable {
    /// The owning hub (unretained), set once the hub is initialised.
    var owner: UnsafeMutableRawPointer?
    private var free: [UnsafeMutablePointer<Waiter>] = []
    private(set) var all: [UnsafeMutablePointer<Waiter>] = []
    /// Waiters handed out and not yet returned.
    private(set) var live = 0

    mutating func acquire() -> UnsafeMutablePointer<Waiter> {
        live += 1
        if let waiter = free.popLast() {
            waiter.pointee.phase = .preparing
            return waiter
        }
        let waiter = UnsafeMutablePointer<Waiter>.allocate(capacity: 1)
        waiter.initialize(to: Waiter())
        evg_io_init(waiter.io, waiterIOCallback, 0, 0)
        evg_timer_init(waiter.timer, waiterTimerCallback, 0, 0)
        evg_set_data(waiter.io, UnsafeMutableRawPointer(waiter))
        evg_set_data(waiter.timer, UnsafeMutableRawPointer(waiter))
        waiter.pointee.cancellation = evg_cancellation(fn: waiterCancelled, owner: owner, item: UnsafeMutableRawPointer(waiter))
        // Timers below I/O: readiness wins over a timeout in the same iteration.
        evg_set_priority(waiter.timer, -1)
        waiter.pointee.phase = .preparing
        all.append(waiter)
        return waiter
    }

    /// A waiter for one `IOWatcher`'s whole life: its io watcher keeps its
    /// descriptor and events, so restarting it costs no syscall.
    mutating func acquireDedicated(fd: Int32, events: Int32) -> UnsafeMutablePointer<Waiter> {
        let waiter = acquire()
        live -= 1
        waiter.pointee.isDedicated = true
        waiter.pointee.phase = .idle
        evg_io_set(waiter.io, fd, events)
        return waiter
    }

    /// Returns a dedicated waiter when its `IOWatcher` goes away.
    mutating func releaseDedicated(_ waiter: UnsafeMutablePointer<Waiter>) {
        live += 1
        waiter.pointee.isDedicated = false
        waiter.pointee.stoppedInIteration = .max
        release(waiter)
    }

    /// Starts a use of a dedicated waiter.
    mutating func beginDedicated(_ waiter: UnsafeMutablePointer<Waiter>) {
        live += 1
        waiter.pointee.phase = .preparing
    }

    /// Ends a use of a dedicated waiter; it stays with its watcher.
    mutating func endDedicated(_ waiter: UnsafeMutablePointer<Waiter>) {
        live -= 1
        waiter.pointee.generation &+= 1
        waiter.pointee.phase = .idle
        waiter.pointee.cancelRequested = false
        waiter.pointee.timerIsScope = false
        waiter.pointee.error = nil
    }

    mutating func release(_ waiter: UnsafeMutablePointer<Waiter>) {
        live -= 1
        waiter.pointee.generation &+= 1
        waiter.pointee.phase = .idle
        waiter.pointee.cancelRequested = false
        waiter.pointee.timerIsScope = false
        waiter.pointee.error = nil
        free.append(waiter)
    }

    /// Frees every waiter; only when no task can still hold one.
    mutating func destroy() {
        for waiter in all {
            waiter.deinitialize(count: 1)
            waiter.deallocate()
        }
        all.removeAll()
        free.removeAll()
    }
}
