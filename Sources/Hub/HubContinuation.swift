/// Resumes a task suspended in `withHubContinuation`. Resume it once, from
/// any thread; the task wakes on its hub. A resume after the task was
/// cancelled or timed out is ignored, so late callbacks are harmless.
public struct HubContinuation<T: Sendable>: Sendable {
    let hub: Hub
    let ref: WaiterRef
    let box: ResultBox<T>

    /// Resumes the task with `value`.
    public func resume(returning value: T) { resume(with: .success(value)) }

    /// Resumes the task by throwing `error`.
    public func resume(throwing error: any Error) { resume(with: .failure(error)) }

    /// Resumes the task with `result`.
    public func resume(with result: Result<T, any Error>) {
        guard box.store(result) else { return }
        hub.complete(ref)
    }
}

/// The one-shot slot a `HubContinuation` fills; written by the resumer before
/// it posts the completion, read by the task after it wakes.
final class ResultBox<T: Sendable>: @unchecked Sendable {
    private let lock = Lock()
    private var result: Result<T, any Error>?
    private var filled = false

    /// Stores the first result; false for any later one.
    func store(_ value: Result<T, any Error>) -> Bool {
        lock.withLock {
            guard !filled else { return false }
            filled = true
            result = value
            return true
        }
    }

    func take() -> Result<T, any Error>? {
        lock.withLock {
            defer { result = nil }
            return result
        }
    }
}

/// Suspends the calling task on its hub until the `HubContinuation` given to
/// `body` is resumed. The wait is cancellable (the task throws
/// `CancellationError` at once and `onCancel` runs on the hub thread) and
/// honours `timeout` and enclosing `withTimeout` scopes.
///
/// This is how work finished outside the task (a thread pool, a c-ares
/// callback) is delivered back onto the hub.
///
/// - Parameters:
///   - hub: the hub to wait on; default the current one, else `Hub.default`.
///   - timeout: nil for none; when it passes, `TimeoutError` is thrown.
///   - onCancel: runs on the hub thread if the wait ends by cancellation,
///     timeout or shutdown before the continuation was resumed.
///   - body: runs on the hub thread before the task suspends.
public func withHubContinuation<T: Sendable>(
    hub: Hub? = nil,
    timeout: Duration? = nil,
    onCancel: (@Sendable () -> Void)? = nil,
    _ body: (HubContinuation<T>) throws -> Void
) async throws -> T {
    try await Hub.onHub(hub) { hub in
        let ns = try nanoseconds(timeout)
        let ref = try hub.acquireWaiter()
        let box = ResultBox<T>()
        do {
            try body(HubContinuation(hub: hub, ref: ref, box: box))
        } catch {
            _ = hub.releaseWaiter(ref)
            throw error
        }
        // The body may have resumed already; then there is nothing to wait for.
        let code: Int32
        if let early = box.take() {
            _ = hub.releaseWaiter(ref)
            return try early.get()
        } else {
            code = await Hub.suspend(ref, fd: -1, events: 0, timeoutNanoseconds: ns)
        }
        let scopeID = ref.pointer.pointee.scopeID
        let error = hub.releaseWaiter(ref)
        if code == WaitCode.completed, let result = box.take() {
            return try result.get()
        }
        // Ended some other way: a later resume must be dropped.
        _ = box.store(.failure(CancellationError()))
        onCancel?()
        _ = try hub.outcome(code, error: error, scopeID: scopeID, onTimeout: .throwTimeoutError)
        throw CancellationError()
    }
}
