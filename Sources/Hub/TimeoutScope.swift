import CLibev
import Synchronization

/// The deadline of the innermost-expiring `withTimeout` scope of the current
/// task. Every hub wait arms its timer for the earlier of its own timeout and
/// this deadline, so a scope interrupts whatever hub wait is running when it
/// expires, like gevent's `Timeout`.
struct ScopeDeadline: Sendable {
    let id: UInt64
    /// CLOCK_MONOTONIC nanoseconds.
    let deadline: UInt64

    @TaskLocal static var current: ScopeDeadline?

    /// Scopes open anywhere in the process. While there are none, a wait
    /// skips the task-local lookup. So a task that outlives the scope it was
    /// started in (an unstructured `Task` inherits task-locals) may ignore
    /// that scope's deadline once the scope has ended.
    static let open = Atomic<Int>(0)

    /// The current task's scope, when any scope is open.
    @inline(__always)
    static var active: ScopeDeadline? {
        open.load(ordering: .relaxed) == 0 ? nil : current
    }

    private static let nextID = Atomic<UInt64>(1)
    static func makeID() -> UInt64 { nextID.add(1, ordering: .relaxed).newValue }
}

/// Thrown by a wait whose enclosing scope expired; the scope with this id
/// turns it into `TimeoutError` (or nil).
struct ScopeExpired: Error, CustomStringConvertible {
    let scopeID: UInt64
    var description: String { "timed out" }
}

/// Converts a timeout to nanoseconds; nil means no timeout.
func nanoseconds(_ timeout: Duration?) throws(HubError) -> UInt64? {
    guard let timeout else { return nil }
    let (seconds, attoseconds) = timeout.components
    guard seconds >= 0, attoseconds >= 0 else {
        throw HubError.invalidArgument("timeout must not be negative (got \(timeout))")
    }
    let (ns, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
    if overflow { return UInt64.max / 2 }
    return min(ns &+ UInt64(attoseconds / 1_000_000_000), UInt64.max / 2)
}

/// Runs `body`; if it is still running after `duration`, the hub wait it is
/// suspended in (I/O, sleep, thread-pool work, a lookup) throws and this
/// function throws `TimeoutError` ("timed out").
///
/// A `nil` duration never fires. Scopes nest: the earliest deadline wins and
/// only the scope that set it reports the timeout. The timeout interrupts
/// Evergreen's waits, not arbitrary `await`s (use task cancellation for those).
public func withTimeout<T>(
    _ duration: Duration?,
    isolation: isolated (any Actor)? = #isolation,
    _ body: () async throws -> T
) async throws -> T {
    try await withTimeout(duration, throwing: TimeoutError(), isolation: isolation, body)
}

/// Like `withTimeout(_:_:)`, but throws `error`, as given, when the scope expires.
public func withTimeout<T>(
    _ duration: Duration?,
    throwing error: any Error,
    isolation: isolated (any Actor)? = #isolation,
    _ body: () async throws -> T
) async throws -> T {
    guard let ns = try nanoseconds(duration) else { return try await body() }
    let deadline = evg_monotonic_ns() &+ ns
    if let outer = ScopeDeadline.current, outer.deadline <= deadline {
        // The enclosing scope expires first; it reports its own timeout.
        return try await body()
    }
    let scope = ScopeDeadline(id: ScopeDeadline.makeID(), deadline: deadline)
    ScopeDeadline.open.add(1, ordering: .relaxed)
    defer { ScopeDeadline.open.subtract(1, ordering: .relaxed) }
    do {
        return try await ScopeDeadline.$current.withValue(scope, operation: body, isolation: isolation)
    } catch let expired as ScopeExpired where expired.scopeID == scope.id {
        throw error
    }
}

/// Like `withTimeout(_:_:)`, but the scope ends quietly: returns nil when
/// `duration` passes first.
public func withTimeoutOrNil<T>(
    _ duration: Duration?,
    isolation: isolated (any Actor)? = #isolation,
    _ body: () async throws -> T
) async throws -> T? {
    do {
        return try await withTimeout(duration, throwing: QuietExpiry(), isolation: isolation, body)
    } catch is QuietExpiry {
        return nil
    }
}

private struct QuietExpiry: Error {}
