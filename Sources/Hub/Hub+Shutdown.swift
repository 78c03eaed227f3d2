import CLibev
#if canImport(Glibc)
import Glibc
#endif

extension Hub {
    /// Registers work to run on the hub thread when the hub shuts down, before
    /// pending waits are woken (a resolver closes its channel here). After
    /// the hub has stopped, `hook` runs at once on the calling thread.
    public func onShutdown(_ hook: @escaping @Sendable () -> Void) {
        execute { [self] in
            if closing { hook() } else { shutdownHooks.append(hook) }
        }
    }

    /// Shuts the hub down: it stops accepting work, wakes every pending wait
    /// with `HubError.shutDown`, runs what that wakes, stops the loop and
    /// joins its thread. Idempotent. Called on the hub's own thread it starts
    /// the shutdown and returns without joining (a thread cannot join itself).
    public func shutdown() {
        if state.compareExchange(expected: State.running.rawValue, desired: State.closing.rawValue,
                                 ordering: .acquiringAndReleasing).exchanged {
            post(.shutdown)
            threadPool.shutdown()
        }
        if isCurrent { return }
        inboxLock.lock()
        while !stoppedFlag { stoppedCondition.wait(inboxLock) }
        if threadJoined {
            // Another caller is joining: return only once the thread is gone.
            while !joinCompleted { stoppedCondition.wait(inboxLock) }
            inboxLock.unlock()
            return
        }
        threadJoined = true
        inboxLock.unlock()
        if let thread { pthread_join(thread, nil) }
        inboxLock.withLock {
            joinCompleted = true
            stoppedCondition.broadcast()
        }
    }

    func beginShutdown() {
        guard !closing else { return }
        closing = true
        let hooks = shutdownHooks
        shutdownHooks.removeAll()
        for hook in hooks { hook() }
        let error = HubError.shutDown(hub: name)
        for waiter in waiters.all where waiter.pointee.phase == .waiting {
            waiter.pointee.error = error
            finishWaiter(waiter, loop: loop, code: WaitCode.failed)
        }
        for waiter in waiters.all where waiter.pointee.phase == .preparing {
            waiter.pointee.cancelRequested = true
        }
    }
}
