import CAres
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `ares_library_init`, once per process.
private let aresLibraryStatus: Int32 = ares_library_init(ARES_LIB_INIT_ALL)

/// One c-ares channel driven by a hub's loop: one `IOCallbackWatcher` per
/// c-ares socket (from `ARES_OPT_SOCK_STATE_CB`) calls `ares_process_fd`, and
/// one `TimerCallbackWatcher` handles c-ares' timeouts.
///
/// At most `maxActiveLookups` lookups are handed to c-ares at once; later
/// ones wait in a FIFO queue and start as answers free the window. Without
/// it a burst of lookups sends a query per lookup in one go, and while the
/// hub is busy sending, the answers overflow the receive buffers (c-ares'
/// socket's, or the server's for the queries): each lost datagram costs a
/// whole c-ares timeout. A small default socket buffer (208 KiB) holds
/// about 256 small datagrams.
///
/// c-ares 1.18 is not thread-safe: after `init` everything here runs on the
/// hub's thread only (hence `@unchecked Sendable`).
final class AresChannel: @unchecked Sendable {
    let hub: Hub
    /// Nil once destroyed.
    private(set) var channel: ares_channel?
    /// Why the channel was destroyed: what late and new queries get. The one
    /// piece of state read off the hub thread (every call checks it first).
    private let closedReason = Mutex<(any Error)?>(nil)
    /// The effective lookup order (the hosts file is Evergreen's to read).
    let lookups: [AresLookupSource]
    let maxInFlight: Int
    /// The window: the most lookups c-ares holds at once.
    let maxActiveLookups: Int
    /// Lookups handed to c-ares and not yet called back (cancelled ones
    /// included: c-ares still holds them).
    private(set) var active = 0
    /// Lookups waiting for room in the window.
    private var waiting = AresLookupQueue()

    private struct Socket {
        let watcher: IOCallbackWatcher
        var events: IOEvents
    }
    private var sockets: [ares_socket_t: Socket] = [:]
    private var timer: TimerCallbackWatcher?
    /// When the timer fires (CLOCK_MONOTONIC ns), 0 when it is stopped.
    private var timerDeadline: UInt64 = 0
    /// The shortest time c-ares gives a query (its first try's timeout).
    private var firstTryNanoseconds: UInt64 = 5_000_000_000

    /// Makes the channel (any thread; nothing runs on the loop yet).
    ///
    /// - Throws: `InvalidArgument` for bad options; the `getaddrinfo` error
    ///   of the c-ares status if c-ares cannot start (e.g. an unreadable
    ///   resolv.conf).
    init(hub: Hub, options: AresOptions) throws {
        try options.validate()
        guard aresLibraryStatus == ARES_SUCCESS else { throw AresErrorMapping.addressInfoError(aresLibraryStatus) }
        self.hub = hub
        self.maxInFlight = options.maxInFlight
        self.maxActiveLookups = options.maxActiveLookups
        self.lookups = try options.lookups ?? AresChannel.systemLookups(options)
        try start(options)
    }

    deinit {
        // Normally reached after `destroy` on the hub. Otherwise no lookup
        // ever ran (the resolver keeps the channel until it is destroyed),
        // so c-ares has no socket and no query to call back about.
        if let channel, sockets.isEmpty { ares_destroy(channel) }
    }

    /// Why the channel was destroyed (`ResolverClosedError`, `HubError.shutDown`), or nil. Any thread.
    var closedError: (any Error)? { closedReason.withLock { $0 } }

    /// Throws the reason the channel was destroyed, if it was. Any thread.
    @inline(__always)
    func checkOpen() throws {
        if let error = closedError { throw error }
    }

    /// Reads the lookup order c-ares would use (nsswitch.conf and friends)
    /// from a throwaway channel, since a channel's order is fixed at init.
    private static func systemLookups(_ options: AresOptions) throws -> [AresLookupSource] {
        var probe: ares_channel?
        var opts = ares_options()
        var mask: Int32 = 0
        let path = options.resolvConfPath.map { strdup($0)! }
        defer { free(path) }
        if let path {
            opts.resolvconf_path = path
            mask |= ARES_OPT_RESOLVCONF
        }
        let status = ares_init_options(&probe, &opts, mask)
        guard status == ARES_SUCCESS, let probe else { throw AresErrorMapping.addressInfoError(status) }
        defer { ares_destroy(probe) }
        var saved = ares_options()
        var savedMask: Int32 = 0
        guard ares_save_options(probe, &saved, &savedMask) == ARES_SUCCESS else { return [.hostsFile, .dns] }
        defer { ares_destroy_options(&saved) }
        let text = saved.lookups.map { String(cString: $0) } ?? "fb"
        let order = text.compactMap { AresLookupSource(rawValue: String($0)) }
        return order.isEmpty ? [.hostsFile, .dns] : order
    }

    private func start(_ options: AresOptions) throws {
        var opts = ares_options()
        // c-ares only ever does DNS: the hosts file is read by AresHostsFile.
        var mask: Int32 = ARES_OPT_SOCK_STATE_CB | ARES_OPT_FLAGS | ARES_OPT_LOOKUPS
        opts.sock_state_cb = aresSocketStateCallback
        opts.sock_state_cb_data = Unmanaged.passUnretained(self).toOpaque()
        opts.flags = options.flags.rawValue
        // What c-ares 1.18 misses in resolv.conf (see AresResolvConf).
        let system = options.timeout == nil || options.tries == nil
            ? AresResolvConf.read(path: options.resolvConfPath) : AresResolvConf.Settings()
        if let ms = options.timeoutMilliseconds ?? system.timeoutSeconds.map({ Int32($0 * 1000) }) {
            opts.timeout = ms
            mask |= ARES_OPT_TIMEOUTMS
        }
        if let tries = options.tries ?? system.attempts {
            opts.tries = Int32(tries)
            mask |= ARES_OPT_TRIES
        }
        if let ndots = options.ndots {
            opts.ndots = Int32(ndots)
            mask |= ARES_OPT_NDOTS
        }
        if let port = options.udpPort {
            opts.udp_port = port
            mask |= ARES_OPT_UDP_PORT
        }
        if let port = options.tcpPort {
            opts.tcp_port = port
            mask |= ARES_OPT_TCP_PORT
        }
        if let rotate = options.rotate { mask |= rotate ? ARES_OPT_ROTATE : ARES_OPT_NOROTATE }
        if let size = options.socketReceiveBufferSize {
            opts.socket_receive_buffer_size = Int32(size)
            mask |= ARES_OPT_SOCK_RCVBUF
        }
        if let size = options.socketSendBufferSize {
            opts.socket_send_buffer_size = Int32(size)
            mask |= ARES_OPT_SOCK_SNDBUF
        }
        // c-ares 1.18's getaddrinfo ignores ARES_FLAG_NOSEARCH: no domains does the same.
        let domains = options.flags.contains(.noSearch) ? [] : options.searchDomains
        var cDomains: [UnsafeMutablePointer<CChar>?] = (domains ?? []).map { strdup($0) }
        let cLookups = strdup("b")
        let cResolvConf = options.resolvConfPath.map { strdup($0)! }
        defer {
            cDomains.forEach { free($0) }
            free(cLookups)
            free(cResolvConf)
        }
        opts.lookups = cLookups
        if let cResolvConf {
            opts.resolvconf_path = cResolvConf
            mask |= ARES_OPT_RESOLVCONF
        }
        var status: Int32 = ARES_SUCCESS
        var made: ares_channel?
        cDomains.withUnsafeMutableBufferPointer { buffer in
            if domains != nil {
                opts.domains = buffer.baseAddress
                opts.ndomains = Int32(buffer.count)
                mask |= ARES_OPT_DOMAINS
            }
            status = ares_init_options(&made, &opts, mask)
        }
        guard status == ARES_SUCCESS, let made else {
            // c-ares says ARES_EFILE ("Error reading file") when it could not open resolv.conf.
            if status == ARES_EFILE, let exhausted = DescriptorExhaustion.probe() { throw exhausted }
            throw AresErrorMapping.addressInfoError(status)
        }
        channel = made
        do {
            // c-ares applies ARES_FLAG_PRIMARY only to the servers it reads at init.
            try setServers(options.flags.contains(.primary) ? Array(options.nameservers.prefix(1)) : options.nameservers)
        } catch {
            ares_destroy(made)
            channel = nil
            throw error
        }
        var saved = ares_options()
        var savedMask: Int32 = 0
        if ares_save_options(made, &saved, &savedMask) == ARES_SUCCESS {
            if saved.timeout > 0 {
                // ares_save_options always reports milliseconds (ARES_OPT_TIMEOUTMS).
                firstTryNanoseconds = UInt64(saved.timeout) * 1_000_000
            }
            ares_destroy_options(&saved)
        }
    }

    private func setServers(_ servers: [AresNameserver]) throws {
        guard !servers.isEmpty, let channel else { return }
        let nodes = UnsafeMutablePointer<ares_addr_port_node>.allocate(capacity: servers.count)
        defer { nodes.deallocate() }
        for (i, server) in servers.enumerated() {
            var node = ares_addr_port_node()
            node.next = i + 1 < servers.count ? nodes + i + 1 : nil
            node.family = server.family.rawValue
            let ok = withUnsafeMutableBytes(of: &node.addr) { inet_pton(server.family.rawValue, server.address, $0.baseAddress) }
            guard ok == 1 else { throw InvalidArgument("bad nameserver address '\(server.address)'") }
            node.udp_port = Int32(server.port ?? 0)
            node.tcp_port = Int32(server.port ?? 0)
            (nodes + i).initialize(to: node)
        }
        let status = ares_set_servers_ports(channel, nodes)
        guard status == ARES_SUCCESS else { throw AresErrorMapping.addressInfoError(status) }
    }

    // MARK: Queries (hub thread)

    /// Lookups counted against `maxInFlight`: in c-ares or waiting for it.
    var inFlight: Int { active + waiting.count }

    /// Lookups waiting for room in the window.
    var queued: Int { waiting.count }

    /// Runs one c-ares call and waits for its callback to resume the
    /// continuation: at once when the window has room, else after the
    /// lookups queued before it. `start` runs on the hub thread; the
    /// callback must call `release()`.
    ///
    /// A cancelled task leaves at once: a queued lookup never reaches
    /// c-ares; one already there finishes in the background.
    ///
    /// - Throws: the reason the channel was destroyed, `HubError.saturated`
    ///   beyond `maxInFlight`, or what the continuation is resumed with.
    func lookup<T: Sendable>(_ start: @escaping (ares_channel, HubContinuation<T>) -> Void) async throws -> T {
        let pending = AresPendingLookup()
        return try await withHubContinuation(hub: hub, onCancel: { self.cancel(pending) }) { (continuation: HubContinuation<T>) in
            guard let channel else { throw closedError ?? HubError.shutDown(hub: hub.name) }
            guard inFlight < maxInFlight else {
                throw HubError.saturated(what: "c-ares lookups in flight on hub '\(hub.name)'", limit: maxInFlight)
            }
            if active < maxActiveLookups, waiting.isEmpty {
                active += 1
                start(channel, continuation)
                queriesSent()
            } else {
                pending.prepare(start: { start($0, continuation) }, fail: { continuation.resume(throwing: $0) })
                waiting.append(pending)
            }
        }
    }

    /// A queued lookup whose task left: it never starts.
    private func cancel(_ pending: AresPendingLookup) {
        _ = waiting.cancel(pending)
    }

    /// Uncounts a lookup c-ares has called back. With none left c-ares has
    /// no query either: the timer stops. (Queued lookups start after
    /// c-ares has finished processing, in `startWaiting`.)
    @inline(__always)
    func release() {
        active -= 1
        if active == 0, timerDeadline != 0 {
            timer?.stop()
            timerDeadline = 0
        }
    }

    /// Hands queued lookups to c-ares while the window has room.
    private func startWaiting() {
        guard !waiting.isEmpty, let channel else { return }
        while active < maxActiveLookups, let next = waiting.popFirst() {
            active += 1
            next.run(on: channel)
        }
        queriesSent()
    }

    /// After new queries were sent: makes sure the timer fires no later than
    /// the earliest deadline they can have (now + the first try's timeout),
    /// without asking `ares_timeout` (which walks every query).
    @inline(__always)
    func queriesSent() {
        guard channel != nil, active > 0 else { return }
        let deadline = monotonicNanoseconds() &+ firstTryNanoseconds
        if timerDeadline == 0 || timerDeadline > deadline { armTimer(at: deadline) }
    }

    private func armTimer(at deadline: UInt64) {
        let timer = self.timer ?? TimerCallbackWatcher(hub: hub) { [unowned self] in self.timerFired() }
        self.timer = timer
        timerDeadline = deadline
        let now = monotonicNanoseconds()
        timer.start(after: Double(deadline > now ? deadline - now : 0) / 1e9)
    }

    private func timerFired() {
        timerDeadline = 0
        guard let channel else { return }
        ares_process_fd(channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD)
        guard self.channel != nil else { return }
        // Timed-out lookups freed their places in the window.
        startWaiting()
        var buffer = timeval()
        guard let next = ares_timeout(channel, nil, &buffer) else { return }
        // ares_timeout counts whole milliseconds: never re-arm for less than
        // one, or a deadline under a millisecond away would spin the loop.
        let ns = max(UInt64(next.pointee.tv_sec) * 1_000_000_000 + UInt64(next.pointee.tv_usec) * 1000, 1_000_000)
        armTimer(at: monotonicNanoseconds() &+ ns)
    }

    fileprivate func socketStateChanged(_ fd: ares_socket_t, readable: Bool, writable: Bool) {
        var events: IOEvents = []
        if readable { events.insert(.read) }
        if writable { events.insert(.write) }
        if events.isEmpty {
            // c-ares reports a socket closing before it closes it.
            sockets.removeValue(forKey: fd)?.watcher.stop()
            return
        }
        if var socket = sockets[fd] {
            guard socket.events != events else { return }
            socket.events = events
            socket.watcher.start(fd: fd, events: events)
            sockets[fd] = socket
            return
        }
        let watcher = IOCallbackWatcher(hub: hub) { [unowned self] fired in self.socketReady(fd, fired) }
        watcher.start(fd: fd, events: events)
        sockets[fd] = Socket(watcher: watcher, events: events)
    }

    private func socketReady(_ fd: ares_socket_t, _ events: IOEvents) {
        guard let channel else { return }
        ares_process_fd(channel, events.contains(.read) ? fd : ARES_SOCKET_BAD,
                        events.contains(.write) ? fd : ARES_SOCKET_BAD)
        // Answers may have sent follow-up queries (AAAA, the next search
        // domain, a retry over TCP), and freed places in the window.
        queriesSent()
        startWaiting()
    }

    /// Destroys the channel: every pending lookup is called back with
    /// ARES_EDESTRUCTION and fails with `error`, queued ones too; later
    /// lookups fail with it as well. Idempotent. Hub thread only.
    func destroy(error: any Error) {
        guard let channel else { return }
        closedReason.withLock { $0 = error }
        // Before ares_destroy, whose callbacks free places in the window:
        // nothing may start on a dying channel.
        for pending in waiting.removeAll() { pending.fail(with: error) }
        timer?.stop()
        timerDeadline = 0
        ares_destroy(channel)
        self.channel = nil
        for socket in sockets.values { socket.watcher.stop() }
        sockets.removeAll()
        timer = nil
    }

    /// Counts for tests: sockets watched and whether the timer runs.
    var state: (sockets: Int, timerArmed: Bool) { (sockets.count, timer?.isActive ?? false) }

    /// c-ares' open sockets, for tests that read their kernel counters.
    var socketDescriptors: [Int32] { Array(sockets.keys) }
}

private let aresSocketStateCallback: ares_sock_state_cb = { data, fd, readable, writable in
    Unmanaged<AresChannel>.fromOpaque(data!).takeUnretainedValue()
        .socketStateChanged(fd, readable: readable != 0, writable: writable != 0)
}

@inline(__always)
func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}
