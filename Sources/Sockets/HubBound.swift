/// A value that belongs to one hub, made `Sendable` so that sibling tasks of
/// that hub can share it: one task reads a socket, another writes it, a
/// third closes it. Reading `value` anywhere but on the hub throws
/// `WrongHubError`, so a `HubBound` smuggled to another hub or thread fails
/// clearly instead of racing.
///
/// ```swift
/// let shared = HubBound(socket)
/// group.addTask { let s = try shared.value; _ = try await s.recv(100) }
/// group.addTask { try shared.value.close() }
/// ```
///
/// Tasks of one hub run on one thread, one at a time, so sharing a value
/// among them is safe; every `Socket` operation checks its hub as well.
public struct HubBound<Value>: @unchecked Sendable {
    /// The hub the value belongs to.
    public let hub: Hub
    private let stored: Value

    /// Binds `value` to `hub`.
    public init(_ value: Value, hub: Hub) {
        self.hub = hub
        self.stored = value
    }

    /// The value, when read on its hub.
    ///
    /// - Throws: `WrongHubError` off the hub's thread.
    public var value: Value {
        get throws {
            guard hub.isCurrent else {
                throw WrongHubError(what: "HubBound<\(Value.self)>", hub: hub.name, callerHub: Hub.current?.name)
            }
            return stored
        }
    }
}

extension HubBound where Value == Socket {
    /// Binds a socket to its own hub.
    public init(_ socket: Socket) {
        self.init(socket, hub: socket.hub)
    }
}
