import CLibev

/// A persistent io watcher that calls a closure on the hub thread each time
/// its descriptor is ready, for code that drives a C library from the loop
/// (c-ares). Use it only on its hub's thread; it stops when released.
public final class IOCallbackWatcher {
    /// The hub whose loop runs the watcher.
    public let hub: Hub
    private let watcher = UnsafeMutablePointer<ev_io>.allocate(capacity: 1)
    private let callback: (IOEvents) -> Void

    /// Makes a stopped watcher; `callback` gets the events that fired.
    public init(hub: Hub, callback: @escaping (IOEvents) -> Void) {
        self.hub = hub
        self.callback = callback
        evg_io_init(watcher, { _, io, revents in
            let me = Unmanaged<IOCallbackWatcher>.fromOpaque(evg_get_data(io)!).takeUnretainedValue()
            me.callback(IOEvents(rawValue: revents & Int32(EV_READ | EV_WRITE)))
        }, 0, 0)
        evg_set_data(watcher, Unmanaged.passUnretained(self).toOpaque())
    }

    deinit {
        stop()
        watcher.deallocate()
    }

    /// Whether the watcher is started.
    public var isActive: Bool { evg_is_active(watcher) != 0 }

    /// Watches `fd` for `events` (restarting if already started). Hub thread only.
    public func start(fd: Int32, events: IOEvents) {
        precondition(hub.isCurrent, "IOCallbackWatcher used off its hub's thread")
        precondition(fd >= 0, "IOCallbackWatcher needs a valid descriptor")
        stop()
        guard !events.isEmpty else { return }
        evg_io_set(watcher, fd, events.rawValue)
        ev_io_start(hub.loop, watcher)
        hub.countCallbackWatcher(1)
    }

    /// Stops the watcher. Hub thread only.
    public func stop() {
        guard evg_is_active(watcher) != 0 else { return }
        ev_io_stop(hub.loop, watcher)
        hub.countCallbackWatcher(-1)
    }
}

/// A one-shot timer that calls a closure on the hub thread, for code that
/// drives a C library from the loop (c-ares' `ares_timeout()`). Use it only on
/// its hub's thread; it stops when released.
public final class TimerCallbackWatcher {
    /// The hub whose loop runs the timer.
    public let hub: Hub
    private let watcher = UnsafeMutablePointer<ev_timer>.allocate(capacity: 1)
    private let callback: () -> Void

    /// Makes a stopped timer.
    public init(hub: Hub, callback: @escaping () -> Void) {
        self.hub = hub
        self.callback = callback
        evg_timer_init(watcher, { _, timer, _ in
            let me = Unmanaged<TimerCallbackWatcher>.fromOpaque(evg_get_data(timer)!).takeUnretainedValue()
            me.hub.countCallbackWatcher(-1)
            me.callback()
        }, 0, 0)
        evg_set_data(watcher, Unmanaged.passUnretained(self).toOpaque())
    }

    deinit {
        stop()
        watcher.deallocate()
    }

    /// Whether the timer is started.
    public var isActive: Bool { evg_is_active(watcher) != 0 }

    /// (Re)starts the timer to fire once after `seconds`. Hub thread only.
    public func start(after seconds: Double) {
        precondition(hub.isCurrent, "TimerCallbackWatcher used off its hub's thread")
        stop()
        ev_now_update(hub.loop)
        evg_timer_set(watcher, max(0, seconds), 0)
        ev_timer_start(hub.loop, watcher)
        hub.countCallbackWatcher(1)
    }

    /// Stops the timer. Hub thread only.
    public func stop() {
        guard evg_is_active(watcher) != 0 else { return }
        ev_timer_stop(hub.loop, watcher)
        hub.countCallbackWatcher(-1)
    }
}
