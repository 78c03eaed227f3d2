import Synchronization

extension Hub {
    /// The hub's resolver, used by the module-level DNS functions and by
    /// sockets' `connect`. Made on first use from the hub's resolver
    /// configuration (code settings, `ResolverDefaults`, the `EVERGREEN_*`
    /// environment, the config file: the `thread` backend unless configured
    /// otherwise) and closed when the hub shuts down.
    public var resolver: any Resolver { resolverSlot.resolver(for: self) }

    /// Makes `resolver` the hub's resolver from now on; the hub closes it when
    /// it shuts down. The previous one is not closed (lookups may still run on
    /// it); it goes away with its last reference. Returns the previous one.
    @discardableResult
    public func setResolver(_ resolver: any Resolver) -> (any Resolver)? {
        resolverSlot.replace(with: resolver)
    }

    private var resolverSlot: HubResolverSlot {
        storedValue(for: ObjectIdentifier(HubResolverSlot.self)) {
            let slot = HubResolverSlot()
            onShutdown { slot.hubDidShutDown() }
            return slot
        }
    }
}

/// A hub's resolver and whether the hub has shut down.
final class HubResolverSlot: Sendable {
    private struct State {
        var resolver: (any Resolver)?
        var hubShutDown = false
    }

    private let state = Mutex(State())

    /// The current resolver, made from the configuration on first use. It is
    /// made under the lock, so exactly once: a backend must not ask for
    /// `hub.resolver` while it is being made.
    func resolver(for hub: Hub) -> any Resolver {
        state.withLock { state in
            if let resolver = state.resolver { return resolver }
            // Issue 6: the hub's configuration, `ResolverDefaults`, EVERGREEN_* and the config file.
            let resolver = makeConfiguredResolver(for: hub)
            if state.hubShutDown { resolver.beginClose() }
            state.resolver = resolver
            return resolver
        }
    }

    func replace(with resolver: any Resolver) -> (any Resolver)? {
        let (old, closeNow) = state.withLock { state in
            defer { state.resolver = resolver }
            return (state.resolver, state.hubShutDown)
        }
        if closeNow { resolver.beginClose() }
        return old
    }

    /// Runs on the hub thread as the hub shuts down.
    func hubDidShutDown() {
        let resolver = state.withLock { state in
            state.hubShutDown = true
            return state.resolver
        }
        resolver?.beginClose()
    }
}
