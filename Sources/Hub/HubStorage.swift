/// Per-hub values for the layers above the hub (a hub's resolver lives
/// here), keyed by type. The hub knows nothing of what it stores. It lets
/// go of them when its loop has stopped, so a value that holds the hub
/// does not keep it alive; one stored after that is made afresh.
extension Hub {
    /// The value stored for `key`, made with `make` on first use. Thread-safe.
    public func storedValue<Value: Sendable>(for key: ObjectIdentifier, make: () throws -> Value) rethrows -> Value {
        try storage.withLock {
            if let existing = storage.values[key] as? Value { return existing }
            let value = try make()
            storage.values[key] = value
            return value
        }
    }

    /// Replaces the value stored for `key` and returns the old one.
    @discardableResult
    public func replaceStoredValue<Value: Sendable>(for key: ObjectIdentifier, with value: Value?) -> Value? {
        storage.withLock {
            let old = storage.values[key] as? Value
            storage.values[key] = value
            return old
        }
    }
}

/// The hub's keyed values, behind a lock.
final class HubValueStore: @unchecked Sendable {
    private let lock = Lock()
    var values: [ObjectIdentifier: any Sendable] = [:]

    func withLock<T>(_ body: () throws -> T) rethrows -> T { try lock.withLock(body) }

    /// Drops every value; their deinits run after the lock is released.
    func removeAll() {
        let dropped = lock.withLock {
            defer { values = [:] }
            return values
        }
        _ = dropped
    }
}
